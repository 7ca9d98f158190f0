namespace SharpSeek;

/// <summary>A problem with user input (model files, configs, parameters) that is reported as one clear line.</summary>
public class SharpSeekException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A model file or config that is malformed, truncated, or inconsistent. The message names the file and the tensor or key.</summary>
public sealed class ModelFormatException(string message, Exception? inner = null) : SharpSeekException(message, inner);
