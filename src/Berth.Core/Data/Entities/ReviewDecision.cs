namespace Berth.Core.Data.Entities;

public enum ReviewDecision
{
    Approve,
    Reject,
}
