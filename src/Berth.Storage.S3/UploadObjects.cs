namespace Berth.Storage.S3;

/// <summary>
/// What the bucket holds of one upload: full parts numbered 1, 2, … and tails. Only the parts numbered without
/// a gap from 1 count, and only the tail numbered one past the last of them; anything else was superseded
/// (a flush that crashed before deleting the previous tail) and is deleted by the next writer.
/// </summary>
internal sealed class UploadObjects
{
    public List<StagedObject> Parts { get; } = [];

    public List<StagedObject> Tails { get; } = [];

    public DateTimeOffset LastModified { get; set; } = DateTimeOffset.MinValue;

    /// <summary>The parts that count, in order.</summary>
    public IReadOnlyList<StagedObject> ValidParts
    {
        get
        {
            var result = new List<StagedObject>();
            foreach (var part in Parts.OrderBy(p => p.Number))
            {
                if (part.Number != result.Count + 1)
                {
                    break;
                }

                result.Add(part);
            }

            return result;
        }
    }

    public StagedObject? ValidTail
    {
        get
        {
            var next = ValidParts.Count + 1;
            return Tails.FirstOrDefault(t => t.Number == next);
        }
    }

    public long Length => ValidParts.Sum(p => p.Size) + (ValidTail?.Size ?? 0);

    public void Add(bool isPart, StagedObject staged, DateTimeOffset lastModified)
    {
        (isPart ? Parts : Tails).Add(staged);
        if (lastModified > LastModified)
        {
            LastModified = lastModified;
        }
    }
}

internal sealed record StagedObject(int Number, string Key, long Size);
