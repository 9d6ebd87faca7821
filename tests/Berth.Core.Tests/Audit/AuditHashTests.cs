using Berth.Core.Audit;
using Berth.Core.Data.Entities;

namespace Berth.Core.Tests.Audit;

/// <summary>
/// The hash format is part of the audit log's contract (docs/governance.md): anyone can recompute it
/// with the documented recipe. The expected values come from an independent implementation of that
/// recipe (a few lines of Python's hashlib and struct), not from this code.
/// </summary>
public sealed class AuditHashTests
{
    [Fact]
    public void AnEntryHashesAsDocumented()
    {
        var entry = new AuditEntry
        {
            Id = 1,
            At = new DateTime(2026, 1, 2, 3, 4, 5, 123, 456, DateTimeKind.Utc),
            ActorId = 7,
            Actor = "alice",
            Action = "stage.change",
            Namespace = "acme",
            Target = "acme/fraud:3",
            Details = """{"to":"production"}""",
            ClientAddress = "127.0.0.1",
            RequestId = "00-abc-01",
            PreviousHash = AuditHash.Genesis,
            Hash = "",
        };
        Assert.Equal("2a929047894cf5e8edbbc99cf57edc7b90422adb0f6457cbc35865ff916100e4", AuditHash.Compute(entry));
    }

    [Fact]
    public void MissingFieldsHashDifferentlyFromEmptyOnes()
    {
        var entry = new AuditEntry
        {
            Id = 2,
            At = new DateTime(2026, 1, 2, 3, 4, 5, 123, 456, DateTimeKind.Utc),
            Actor = "system",
            Action = "upload.expire",
            PreviousHash = string.Concat(Enumerable.Repeat("ab", 32)),
            Hash = "",
        };
        Assert.Equal("af50066175b1eeac038bbba58c993bf85a91c8ddb0e7a07a80e4983d2e6e5a5a", AuditHash.Compute(entry));
        entry.Target = "";
        Assert.NotEqual("af50066175b1eeac038bbba58c993bf85a91c8ddb0e7a07a80e4983d2e6e5a5a", AuditHash.Compute(entry));
    }

    [Fact]
    public void ATimeReadBackWithoutAKindHashesLikeTheUtcOneWritten()
    {
        var utc = new AuditEntry { Id = 3, At = new DateTime(2026, 5, 1, 0, 0, 0, DateTimeKind.Utc), Actor = "a", Action = "b", PreviousHash = AuditHash.Genesis, Hash = "" };
        var read = new AuditEntry { Id = 3, At = new DateTime(2026, 5, 1, 0, 0, 0, DateTimeKind.Unspecified), Actor = "a", Action = "b", PreviousHash = AuditHash.Genesis, Hash = "" };
        Assert.Equal(AuditHash.Compute(utc), AuditHash.Compute(read));
    }
}
