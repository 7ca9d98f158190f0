using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace SharpSeek.Formats;

/// <summary>
/// Opens a file the engine reads (weights, configs, prefix-cache blocks) so that it can never hang the caller: symbolic
/// links are followed to the file they name (the Hugging Face cache is made of them), the size is the target's, and
/// only a regular file is accepted. A FIFO, socket, device or directory is refused with a reason instead of being
/// opened for a blocking read.
/// </summary>
/// <remarks>
/// On Linux the file is opened with <c>O_NONBLOCK</c> (opening a FIFO for reading otherwise waits for a writer, for
/// ever) and its type and size come from <c>statx</c> on the opened descriptor, so nothing can swap the file between
/// the check and the use. <c>struct statx</c> has the same layout on every architecture, unlike <c>struct stat</c>.
/// Elsewhere the type is checked by path before a normal open (Windows has no FIFOs in the file system).
/// </remarks>
public static partial class RegularFile
{
    /// <summary>Opens <paramref name="path"/> for reading, or returns null and why not (missing, not a regular file, no permission).</summary>
    public static SafeFileHandle? TryOpenRead(string path, out long length, out string? why)
    {
        length = 0;
        why = null;
        try
        {
            if (OperatingSystem.IsLinux()) return OpenLinux(path, out length, out why);
            var target = Target(path);
            if (!target.Exists)
            {
                why = Directory.Exists(path) ? "it is a directory, not a file" : "file not found";
                return null;
            }
            var handle = File.OpenHandle(target.FullName, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
            length = RandomAccess.GetLength(handle);
            return handle;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            why = "cannot open: " + e.Message;
            return null;
        }
    }

    /// <summary>As <see cref="TryOpenRead"/>, failing with a <see cref="ModelFormatException"/> that names the file.</summary>
    public static SafeFileHandle OpenRead(string path, out long length) =>
        TryOpenRead(path, out length, out string? why) ?? throw new ModelFormatException($"{System.IO.Path.GetFileName(path)}: {why}");

    /// <summary>The whole file (a config or index), read only when it is a regular file of at most <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes)
    {
        using var handle = OpenRead(path, out long length);
        if (length > maxBytes) throw new ModelFormatException($"{System.IO.Path.GetFileName(path)}: {length} bytes, more than the {maxBytes}-byte limit for this file");
        var data = new byte[length];
        int done = 0;
        while (done < data.Length)
        {
            int n = RandomAccess.Read(handle, data.AsSpan(done), done);
            if (n == 0) throw new ModelFormatException($"{System.IO.Path.GetFileName(path)}: the file shrank while it was read");
            done += n;
        }
        return data;
    }

    /// <summary>The file <paramref name="path"/> names, after following every symbolic link (itself when it is not a link or the link is broken).</summary>
    public static FileInfo Target(string path)
    {
        var info = new FileInfo(path);
        try { return info.LinkTarget is null ? info : info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info; }
        catch (IOException) { return info; }
    }

    /// <summary>
    /// Whether <paramref name="path"/> itself is a regular file, without opening it or following a link (lstat): for
    /// scanning a folder of files this process wrote, where anything else (a FIFO, a link, a device) does not belong.
    /// </summary>
    public static unsafe bool IsRegularNoFollow(string path, out string? why)
    {
        why = null;
        if (!OperatingSystem.IsLinux())
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not null) { why = "it is a symbolic link, not a regular file"; return false; }
            if (!info.Exists) { why = "file not found"; return false; }
            return true;
        }
        byte* buffer = stackalloc byte[256];
        if (Statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE, buffer) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            why = errno == ENOENT ? "file not found" : $"cannot stat: {Marshal.GetPInvokeErrorMessage(errno)}";
            return false;
        }
        int type = *(ushort*)(buffer + 28) & S_IFMT;
        if (type == S_IFREG) return true;
        why = "it is " + Describe(type) + ", not a regular file";
        return false;
    }

    private static string Describe(int type) => type switch
    {
        S_IFDIR => "a directory",
        S_IFIFO => "a FIFO (named pipe)",
        S_IFSOCK => "a socket",
        S_IFCHR => "a character device",
        S_IFBLK => "a block device",
        S_IFLNK => "a symbolic link",
        _ => "not a regular file",
    };

    private const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, S_IFLNK = 0xA000;
    private const int O_RDONLY = 0, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;  // the same on x86-64 and arm64
    private const int AT_EMPTY_PATH = 0x1000;
    private const uint STATX_TYPE = 0x1, STATX_SIZE = 0x200;
    private const int S_IFMT = 0xF000, S_IFREG = 0x8000, S_IFDIR = 0x4000, S_IFIFO = 0x1000, S_IFSOCK = 0xC000, S_IFCHR = 0x2000, S_IFBLK = 0x6000;
    private const int ENOENT = 2, EACCES = 13, ENOTDIR = 20, ELOOP = 40;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    private static unsafe SafeFileHandle? OpenLinux(string path, out long length, out string? why)
    {
        length = 0;
        why = null;
        int fd = Open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            why = errno switch
            {
                ENOENT => "file not found",
                EACCES => "cannot open: permission denied",
                ENOTDIR => "file not found (a part of the path is not a directory)",
                ELOOP => "cannot open: too many levels of symbolic links",
                _ => $"cannot open: {Marshal.GetPInvokeErrorMessage(errno)}",
            };
            return null;
        }
        // struct statx is 256 bytes: stx_mode (u16) at 28, stx_size (u64) at 40.
        byte* buffer = stackalloc byte[256];
        if (Statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE, buffer) != 0)
        {
            why = $"cannot stat: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}";
            Close(fd);
            return null;
        }
        int type = *(ushort*)(buffer + 28) & S_IFMT;
        if (type != S_IFREG)
        {
            why = "it is " + Describe(type) + ", not a regular file";
            Close(fd);
            return null;
        }
        length = (long)*(ulong*)(buffer + 40);
        return new SafeFileHandle(fd, ownsHandle: true);
    }
}
