using System.IO.MemoryMappedFiles;

namespace SharpSeek.Formats;

/// <summary>
/// A whole file mapped read-only: model weights are used in place, never copied into managed memory, and the OS
/// pages in only what is touched. Opening failures become one-line <see cref="ModelFormatException"/>s.
/// </summary>
public sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private bool _disposed;

    /// <param name="minimumLength">Files shorter than this are reported as truncated, naming <paramref name="what"/>.</param>
    public MappedFile(string path, long minimumLength, string what)
    {
        string name = System.IO.Path.GetFileName(path);
        // A symlink (the Hugging Face cache's snapshots/ → blobs/) is sized and mapped as the file it names, and a FIFO or
        // device is refused instead of blocking the open.
        var handle = RegularFile.OpenRead(path, out long length);
        Length = length;
        if (Length < minimumLength)
        {
            handle.Dispose();
            throw new ModelFormatException($"{name}: truncated: {Length} bytes, too short for {what}");
        }
        try
        {
            _map = MemoryMappedFile.CreateFromFile(handle, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            _view = _map.CreateViewAccessor(0, Length, MemoryMappedFileAccess.Read);
            byte* p = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            Pointer = p + _view.PointerOffset;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            if (_map is null) handle.Dispose();
            Dispose();
            throw new ModelFormatException($"{name}: cannot map: {e.Message}", e);
        }
    }

    public long Length { get; }

    /// <summary>The first byte of the file; valid until <see cref="Dispose"/>.</summary>
    public byte* Pointer { get; }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view is not null)
        {
            if (Pointer != null) _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }
}
