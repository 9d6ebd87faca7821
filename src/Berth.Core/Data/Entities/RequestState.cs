namespace Berth.Core.Data.Entities;

/// <summary>open → applied / rejected / cancelled / superseded.</summary>
public enum RequestState
{
    Open,

    /// <summary>Approved by enough approvers and applied.</summary>
    Applied,

    Rejected,

    /// <summary>Withdrawn by the requester or a namespace admin.</summary>
    Cancelled,

    /// <summary>A newer request for the same target replaced it, or another request for the same exclusive stage was applied.</summary>
    Superseded,
}
