using System.ComponentModel.DataAnnotations;

namespace Berth.Core.Blobs;

public sealed class FileSystemBlobStoreOptions
{
    /// <summary>The folder that holds <c>blobs/</c> and <c>uploads/</c>.</summary>
    [Required]
    public string Root { get; set; } = "";

    /// <summary>fsync data and directories before acknowledging writes (turn off only for throwaway stores).</summary>
    public bool Fsync { get; set; } = true;
}
