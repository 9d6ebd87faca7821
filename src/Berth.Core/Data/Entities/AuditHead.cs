namespace Berth.Core.Data.Entities;

/// <summary>
/// The end of the audit chain (a single row): the last position and hash. Updated in the same
/// transaction as every append, which serialises appenders and lets verification notice entries cut off
/// the end of the log.
/// </summary>
public sealed class AuditHead
{
    public int Id { get; set; }
    public long LastId { get; set; }
    public required string LastHash { get; set; }
}
