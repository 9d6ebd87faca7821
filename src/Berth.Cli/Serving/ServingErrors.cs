namespace Berth.Cli.Serving;

/// <summary>The <c>code</c> member of serve-model's error answers (docs/serving.md, "Errors").</summary>
internal static class ServingErrors
{
    /// <summary>400: the body is not JSON, or not an inference request object.</summary>
    public const string InvalidJson = "invalid_json";

    /// <summary>400: an input is missing, unknown, of the wrong datatype or shape, or its data does not fit them.</summary>
    public const string InvalidInput = "invalid_input";

    /// <summary>400: a requested output is not one of the model's.</summary>
    public const string UnknownOutput = "unknown_output";

    /// <summary>400: the first dimension is larger than --max-batch.</summary>
    public const string BatchLimitExceeded = "batch_limit_exceeded";

    /// <summary>404: no model of this name is served here.</summary>
    public const string ModelNotFound = "model_not_found";

    /// <summary>404: the model is served, but not this version.</summary>
    public const string VersionNotFound = "version_not_found";

    /// <summary>413: the body is larger than --max-request-bytes.</summary>
    public const string BodyTooLarge = "body_too_large";

    /// <summary>503: no version has finished loading yet.</summary>
    public const string NotReady = "not_ready";

    /// <summary>500: ONNX Runtime failed while running the model on valid-looking input.</summary>
    public const string InferenceFailed = "inference_failed";
}
