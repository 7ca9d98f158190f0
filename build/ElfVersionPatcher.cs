// SharpSeek build helper: relaxes GLIBCXX version needs of TorchSharp's native glue library.
//
// libLibTorchSharp.so (TorchSharp 0.107) is linked against GCC 13's libstdc++ and so records a
// need for GLIBCXX_3.4.32, which older distributions (Debian 12: GCC 12) lack; the dynamic loader
// then refuses the library. The only symbol of that version, std::ios_base_library_init(), is
// never referenced by a relocation, so the need is spurious. Marking the version-need entry weak
// (VER_FLG_WEAK in .gnu.version_r) makes the loader accept the library when the version is missing.
//
// This file is compiled twice: as an inline MSBuild task (build/TorchSharpNative.targets, through
// RoslynCodeTaskFactory) and into the training tests (with SHARPSEEK_NO_MSBUILD_TASK defined).
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace SharpSeek.Build
{
    /// <summary>Reads ELF64 little-endian shared objects and marks chosen version needs weak.</summary>
    public static class ElfVersionPatcher
    {
        public const ushort VerFlagWeak = 2;
        private const uint ShtRela = 4, ShtRel = 9, ShtDynsym = 11, ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;

        /// <summary>One version-need entry (<c>Elf64_Vernaux</c>) of an ELF file.</summary>
        public sealed class VersionNeed
        {
            public string File = "";
            public string Version = "";
            public ushort Flags;
            public ushort Index;
            /// <summary>Byte offset of <c>vna_flags</c> in the file.</summary>
            public long FlagsOffset;
            /// <summary>Dynamic symbols bound to this version that some relocation refers to.</summary>
            public List<string> RelocatedSymbols = new List<string>();
            public bool IsWeak { get { return (Flags & VerFlagWeak) != 0; } }
        }

        /// <summary>Lists every version need of <paramref name="elf"/> with the relocated symbols bound to it.</summary>
        public static List<VersionNeed> ReadVersionNeeds(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("only 64-bit little-endian ELF is supported");
            long shoff = I64(elf, 0x28);
            int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
            if (shoff <= 0 || shentsize < 64 || shoff + (long)shnum * shentsize > elf.Length) throw new InvalidDataException("section header table out of range");

            var sections = new Section[shnum];
            for (int i = 0; i < shnum; i++)
            {
                long h = shoff + (long)i * shentsize;
                sections[i] = new Section { Type = U32(elf, h + 4), Offset = I64(elf, h + 24), Size = I64(elf, h + 32), Link = U32(elf, h + 40), Info = U32(elf, h + 44), EntSize = I64(elf, h + 56) };
                if (sections[i].Type != 8 /* NOBITS */ && (sections[i].Offset < 0 || sections[i].Offset + sections[i].Size > elf.Length))
                    throw new InvalidDataException("section " + i + " out of range");
            }

            var result = new List<VersionNeed>();
            int dynsym = -1, versym = -1;
            for (int i = 0; i < shnum; i++)
            {
                if (sections[i].Type == ShtDynsym) dynsym = i;
                if (sections[i].Type == ShtGnuVersym) versym = i;
                if (sections[i].Type != ShtGnuVerneed) continue;
                Section strtab = sections[sections[i].Link];
                long vn = sections[i].Offset;
                for (uint n = 0; n < sections[i].Info; n++)
                {
                    string file = Str(elf, strtab, U32(elf, vn + 4));
                    int count = U16(elf, vn + 2);
                    long aux = vn + U32(elf, vn + 8);
                    for (int a = 0; a < count; a++)
                    {
                        result.Add(new VersionNeed
                        {
                            File = file,
                            Flags = (ushort)U16(elf, aux + 4),
                            FlagsOffset = aux + 4,
                            Index = (ushort)(U16(elf, aux + 6) & 0x7fff),
                            Version = Str(elf, strtab, U32(elf, aux + 8)),
                        });
                        uint nextAux = U32(elf, aux + 12);
                        if (nextAux == 0) break;
                        aux += nextAux;
                    }
                    uint next = U32(elf, vn + 12);
                    if (next == 0) break;
                    vn += next;
                }
            }
            if (dynsym < 0 || versym < 0 || result.Count == 0) return result;

            // Which dynamic symbols do relocations use, and which version does each carry?
            Section syms = sections[dynsym], vers = sections[versym], symstr = sections[syms.Link];
            long symCount = syms.Size / 24;
            var relocated = new bool[symCount];
            foreach (Section s in sections)
            {
                if ((s.Type != ShtRela && s.Type != ShtRel) || s.Link != (uint)dynsym) continue;
                long entry = s.Type == ShtRela ? 24 : 16;
                for (long o = s.Offset; o + entry <= s.Offset + s.Size; o += entry)
                {
                    long sym = (long)((ulong)I64(elf, o + 8) >> 32);
                    if (sym > 0 && sym < symCount) relocated[sym] = true;
                }
            }
            for (long sym = 1; sym < symCount; sym++)
            {
                if (!relocated[sym]) continue;
                int index = U16(elf, vers.Offset + 2 * sym) & 0x7fff;
                foreach (VersionNeed need in result)
                    if (need.Index == index) need.RelocatedSymbols.Add(Str(elf, symstr, U32(elf, syms.Offset + 24 * sym)));
            }
            return result;
        }

        /// <summary>
        /// Marks the needs of <paramref name="path"/> named in <paramref name="versions"/> weak, in place (through a temporary
        /// file and a rename, so a hard link to a package cache is never written through; the timestamp is kept so
        /// incremental copies stay skipped). Refuses a version that a relocated symbol is bound to: weakening it would
        /// only move the failure to a missing-symbol error. Returns what was changed, one line each.
        /// </summary>
        public static List<string> MarkWeak(string path, ICollection<string> versions)
        {
            byte[] elf = File.ReadAllBytes(path);
            var changed = new List<string>();
            foreach (VersionNeed need in ReadVersionNeeds(elf))
            {
                if (!versions.Contains(need.Version) || need.IsWeak) continue;
                if (need.RelocatedSymbols.Count > 0)
                    throw new InvalidDataException(Path.GetFileName(path) + ": version " + need.Version + " is used by relocated symbols (" + string.Join(", ", need.RelocatedSymbols) + "); marking it weak would not help");
                ushort flags = (ushort)(need.Flags | VerFlagWeak);
                elf[need.FlagsOffset] = (byte)flags;
                elf[need.FlagsOffset + 1] = (byte)(flags >> 8);
                changed.Add(need.File + " " + need.Version);
            }
            if (changed.Count == 0) return changed;
            // Copy (keeps the mode bits), patch the copy, then rename it over the original.
            DateTime stamp = File.GetLastWriteTimeUtc(path);
            string temp = path + ".patching";
            File.Copy(path, temp, true);
            using (var stream = new FileStream(temp, FileMode.Open, FileAccess.Write))
            {
                stream.Position = 0;
                stream.Write(elf, 0, elf.Length);
            }
            File.SetLastWriteTimeUtc(temp, stamp);
            File.Delete(path);
            File.Move(temp, path);
            return changed;
        }

        /// <summary>The libstdc++ the dynamic loader would pick from the usual system folders, or null.</summary>
        public static string? FindSystemLibStdCxx()
        {
            var dirs = new List<string>();
            string? ld = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ld)) dirs.AddRange(ld.Split(':'));
            dirs.AddRange(new[] { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib" });
            foreach (string dir in dirs)
            {
                if (dir.Length == 0) continue;
                string candidate = Path.Combine(dir, "libstdc++.so.6");
                if (File.Exists(candidate)) return candidate;
            }
            return null;
        }

        /// <summary>Whether the shared object at <paramref name="path"/> defines (or at least names) <paramref name="version"/>.</summary>
        public static bool ProvidesVersion(string path, string version)
        {
            byte[] data = File.ReadAllBytes(path);
            byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
            for (int i = 1; i + needle.Length <= data.Length; i++)
            {
                if (data[i - 1] != 0 || data[i] != needle[0]) continue;
                int k = 1;
                while (k < needle.Length && data[i + k] == needle[k]) k++;
                if (k == needle.Length) return true;
            }
            return false;
        }

        private struct Section { public uint Type, Link, Info; public long Offset, Size, EntSize; }

        private static int U16(byte[] b, long o) { return b[o] | b[o + 1] << 8; }
        private static uint U32(byte[] b, long o) { return (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24); }
        private static long I64(byte[] b, long o) { return (long)(U32(b, o) | (ulong)U32(b, o + 4) << 32); }

        private static string Str(byte[] b, Section strtab, uint offset)
        {
            long start = strtab.Offset + offset, end = start;
            long limit = strtab.Offset + strtab.Size;
            if (start >= limit) throw new InvalidDataException("string offset out of range");
            while (end < limit && b[end] != 0) end++;
            return Encoding.ASCII.GetString(b, (int)start, (int)(end - start));
        }
    }
}

#if !SHARPSEEK_NO_MSBUILD_TASK
namespace SharpSeek.Build
{
    /// <summary>
    /// MSBuild task: for each file in <c>Files</c>, marks the needs in <c>Versions</c> weak when the system libstdc++
    /// lacks them. Does nothing when the system provides every version (newer distributions) or off Linux.
    /// </summary>
    public sealed class WeakenElfVersionNeeds : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        [Microsoft.Build.Framework.Required]
        public string Versions { get; set; } = "";

        public override bool Execute()
        {
            if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux)) return true;
            string? libstdcxx = ElfVersionPatcher.FindSystemLibStdCxx();
            var missing = new HashSet<string>(StringComparer.Ordinal);
            foreach (string v in Versions.Split(new[] { ';', ',' }, StringSplitOptions.RemoveEmptyEntries))
                if (libstdcxx == null || !ElfVersionPatcher.ProvidesVersion(libstdcxx, v.Trim())) missing.Add(v.Trim());
            if (missing.Count == 0) return true;
            foreach (var item in Files)
            {
                string path = item.ItemSpec;
                if (!File.Exists(path)) continue;
                try
                {
                    foreach (string change in ElfVersionPatcher.MarkWeak(path, missing))
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High, "TorchSharp native fix: marked " + change + " weak in " + path + " (system libstdc++ " + (libstdcxx ?? "not found") + " lacks it)");
                }
                catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
                {
                    Log.LogError("TorchSharp native fix: cannot patch " + path + ": " + e.Message);
                }
            }
            return !Log.HasLoggedErrors;
        }
    }
}
#endif
