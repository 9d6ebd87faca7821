namespace Berth.Core.Data.Entities;

public sealed class RequestReview
{
    public long Id { get; set; }
    public long RequestId { get; set; }
    public long ReviewerId { get; set; }
    public User Reviewer { get; set; } = null!;
    public ReviewDecision Decision { get; set; }
    public string? Comment { get; set; }
    public DateTime At { get; set; }
}
