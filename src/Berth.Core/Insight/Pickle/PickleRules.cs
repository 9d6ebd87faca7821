using Berth.Contracts.Dtos;

namespace Berth.Core.Insight.Pickle;

/// <summary>
/// Which globals a pickle may reference: <see cref="Verdict"/> calls a global dangerous when it runs code or reaches the
/// system (processes, files, network, imports, attribute access), safe when it is on the allow list (tensor and array
/// rebuilding, collections, well-known estimator and layer classes), and suspicious otherwise. docs/insight.md lists both.
/// </summary>
public static class PickleRules
{
    /// <summary>Modules every global of which is dangerous (a prefix matches the module and its submodules).</summary>
    private static readonly string[] DangerousModules =
    [
        "os", "posix", "nt", "posixpath", "ntpath", "subprocess", "sys", "runpy", "webbrowser", "socket", "shutil",
        "importlib", "pty", "ctypes", "code", "codeop", "commands", "popen2", "platform", "marshal", "pickle", "_pickle",
        "cPickle", "dill", "cloudpickle", "joblib.externals.cloudpickle", "types", "asyncio", "multiprocessing",
        "concurrent", "threading", "_thread", "thread", "signal", "requests", "urllib", "urllib2", "urllib3", "http",
        "httplib", "ftplib", "smtplib", "telnetlib", "imaplib", "poplib", "xmlrpc", "ssl", "select", "selectors",
        "tempfile", "glob", "pathlib", "io", "_io", "fileinput", "zipimport", "imp", "pkgutil", "venv", "ensurepip",
        "pip", "setuptools", "distutils", "pdb", "bdb", "timeit", "cProfile", "profile", "trace", "doctest",
        "inspect", "_posixsubprocess", "_osx_support", "pydoc", "idlelib", "tkinter", "sqlite3", "mmap", "resource",
        "atexit", "builtins.__import__", "operator.attrgetter", "operator.methodcaller", "functools.reduce",
        "torch.hub", "torch.package", "torch.ops", "torch._C", "torch.jit", "torch.fx",
        "torch.serialization", "torch.utils.cpp_extension", "numpy.testing", "numpy.load", "numpy.lib.npyio",
        "numpy.f2py", "numpy.distutils", "pandas.read_pickle", "pandas.io", "keras.models.load_model",
        "tensorflow.io", "tensorflow.python.ops.script_ops",
    ];

    /// <summary>Dangerous names in modules that also hold harmless ones.</summary>
    private static readonly HashSet<string> DangerousGlobals = new(StringComparer.Ordinal)
    {
        "builtins.eval", "builtins.exec", "builtins.compile", "builtins.__import__", "builtins.getattr", "builtins.setattr",
        "builtins.delattr", "builtins.open", "builtins.input", "builtins.breakpoint", "builtins.globals", "builtins.locals",
        "builtins.vars", "builtins.help", "builtins.exit", "builtins.quit",
        "__builtin__.eval", "__builtin__.exec", "__builtin__.execfile", "__builtin__.compile", "__builtin__.__import__",
        "__builtin__.getattr", "__builtin__.setattr", "__builtin__.delattr", "__builtin__.open", "__builtin__.file",
        "__builtin__.input", "__builtin__.raw_input", "__builtin__.apply", "__builtin__.reload", "__builtin__.globals",
        "__builtin__.locals", "__builtin__.vars",
        "operator.attrgetter", "operator.methodcaller", "operator.call",
    };

    /// <summary>Allow-listed globals (exact).</summary>
    private static readonly HashSet<string> SafeGlobals = new(StringComparer.Ordinal)
    {
        "collections.OrderedDict", "collections.defaultdict", "collections.deque", "collections.Counter",
        "builtins.set", "builtins.frozenset", "builtins.dict", "builtins.list", "builtins.tuple", "builtins.bytearray",
        "builtins.bytes", "builtins.complex", "builtins.slice", "builtins.range", "builtins.int", "builtins.float",
        "builtins.bool", "builtins.str", "builtins.object",
        "__builtin__.set", "__builtin__.frozenset", "__builtin__.dict", "__builtin__.list", "__builtin__.tuple",
        "__builtin__.bytearray", "__builtin__.complex", "__builtin__.slice", "__builtin__.xrange", "__builtin__.int",
        "__builtin__.long", "__builtin__.float", "__builtin__.bool", "__builtin__.str", "__builtin__.unicode", "__builtin__.object",
        "copyreg._reconstructor", "copy_reg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__",
        "_codecs.encode", "codecs.encode",
        "datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta", "datetime.timezone",
        "decimal.Decimal", "fractions.Fraction", "uuid.UUID", "re._compile",
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state", "torch._utils._rebuild_qtensor",
        "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_sparse_csr_tensor", "torch._utils._rebuild_nested_tensor",
        "torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_meta_tensor_no_storage",
        "torch._utils._rebuild_wrapper_subclass", "torch._utils._rebuild_xla_tensor", "torch._utils._rebuild_mps_tensor",
        "torch._tensor._rebuild_from_type", "torch._tensor._rebuild_from_type_v2", "torch.nn.parameter.Parameter",
        "torch.Size", "torch.device", "torch.dtype", "torch.Tensor", "torch.storage.UntypedStorage", "torch.storage.TypedStorage",
        "torch.storage._TypedStorage", "torch.serialization._get_layout", "torch.per_tensor_affine", "torch.per_channel_affine",
        "torch.per_tensor_symmetric", "torch.per_channel_symmetric", "torch.strided", "torch.sparse_coo", "torch.sparse_csr",
        "torch.contiguous_format", "torch.channels_last", "torch.preserve_format",
        "torch.jit._pickle.build_intlist", "torch.jit._pickle.build_tensorlist", "torch.jit._pickle.build_doublelist",
        "torch.jit._pickle.build_boollist", "torch.jit._pickle.build_tensor_from_id", "torch.jit._pickle.restore_type_tag",
        "numpy.ndarray", "numpy.dtype", "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.ma.core._mareconstruct",
        "numpy.random._pickle.__randomstate_ctor", "numpy.random._pickle.__bit_generator_ctor",
        "numpy.random._pickle.__generator_ctor", "numpy.random.__RandomState_ctor", "numpy.core.numeric._frombuffer",
        "numpy._core.numeric._frombuffer",
        "joblib.numpy_pickle.NumpyArrayWrapper", "joblib.numpy_pickle.NDArrayWrapper", "joblib.numpy_pickle.ZNDArrayWrapper",
        "joblib.numpy_pickle_compat.NDArrayWrapper", "joblib.numpy_pickle_compat.ZNDArrayWrapper",
        "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
        "scipy.sparse._csr.csr_matrix", "scipy.sparse._csc.csc_matrix", "scipy.sparse._coo.coo_matrix",
        "scipy.sparse.csr.csr_matrix", "scipy.sparse.csc.csc_matrix", "scipy.sparse.coo.coo_matrix",
        "xgboost.core.Booster", "xgboost.sklearn.XGBClassifier", "xgboost.sklearn.XGBRegressor", "xgboost.sklearn.XGBRanker",
        "lightgbm.basic.Booster", "lightgbm.sklearn.LGBMClassifier", "lightgbm.sklearn.LGBMRegressor", "lightgbm.sklearn.LGBMRanker",
    };

    /// <summary>Modules whose classes (names that start with a capital letter) are allow-listed.</summary>
    private static readonly string[] SafeClassModules =
    [
        "sklearn.", "torch.nn.modules.", "numpy.dtypes", "scipy.sparse.", "catboost.core",
        // TorchScript's compiled classes: their methods are TorchScript in the archive's code/, which torch runs, not Python.
        "__torch__.",
    ];

    /// <summary>Builtin scalar types numpy pickles by name (<c>numpy.float64</c> …) are allow-listed.</summary>
    private static readonly HashSet<string> NumpyScalars = new(StringComparer.Ordinal)
    {
        "bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64",
        "longdouble", "complex64", "complex128", "clongdouble", "str_", "bytes_", "void", "object_", "datetime64", "timedelta64",
        "intc", "uintc", "int_", "uint", "longlong", "ulonglong", "half", "single", "double",
    };

    /// <summary>The verdict on one global.</summary>
    public static string Verdict(string module, string name)
    {
        var full = module + "." + name;
        if (DangerousGlobals.Contains(full) || (name.Contains('.', StringComparison.Ordinal) && name.Split('.').Any(part => part.StartsWith("__", StringComparison.Ordinal))))
        {
            // A dotted name walks attributes (protocol 4): through a dunder (__globals__, __subclasses__ …) it reaches anything.
            return ScanVerdicts.Dangerous;
        }

        if (SafeGlobals.Contains(full))
        {
            return ScanVerdicts.Safe;
        }

        if (IsDangerousModule(module) || IsDangerousModule(full))
        {
            return ScanVerdicts.Dangerous;
        }

        if (module == "torch" && (name.EndsWith("Storage", StringComparison.Ordinal) || TorchDtypes.IsDtypeName(name)))
        {
            return ScanVerdicts.Safe;
        }

        if (module is "numpy" or "numpy.core.numerictypes" or "numpy._core.numerictypes" && NumpyScalars.Contains(name))
        {
            return ScanVerdicts.Safe;
        }

        if (name.Length > 0 && char.IsAsciiLetterUpper(name[0]) && !name.Contains('.', StringComparison.Ordinal) &&
            SafeClassModules.Any(p => module.StartsWith(p, StringComparison.Ordinal) || module == p.TrimEnd('.')))
        {
            return ScanVerdicts.Safe;
        }

        return ScanVerdicts.Suspicious;
    }

    private static bool IsDangerousModule(string module)
    {
        foreach (var prefix in DangerousModules)
        {
            if (module.StartsWith(prefix, StringComparison.Ordinal) && (module.Length == prefix.Length || module[prefix.Length] == '.'))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The lists, for documentation and <c>berth scan --rules</c>.</summary>
    public static IReadOnlyList<string> DangerousModuleList => DangerousModules;

    public static IReadOnlyCollection<string> DangerousGlobalList => DangerousGlobals;

    public static IReadOnlyCollection<string> SafeGlobalList => SafeGlobals;
}
