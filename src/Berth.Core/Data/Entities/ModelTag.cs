namespace Berth.Core.Data.Entities;

public sealed class ModelTag
{
    public long ModelId { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
}
