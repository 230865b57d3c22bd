using System.Runtime.InteropServices;

namespace Platform.Silo.Hosting;

/// <summary>Making a ring: io_uring's set-up, its layout and its system calls.</summary>
internal sealed unsafe partial class SendRing
{
    /// <summary>
    /// A ring for the calling thread, or null where there is none to have: not Linux, a kernel before 5.6 (no
    /// <c>IORING_OP_SEND</c>), or io_uring refused (<c>kernel.io_uring_disabled</c>, a seccomp profile).
    /// </summary>
    public static SendRing? TryCreate(ILogger logger)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64)) return null;
        try
        {
            return Create(logger);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
    }

    private static SendRing? Create(ILogger logger)
    {
        Params p = default;
        // A refused send does not stop the ones after it (5.18 on; older kernels refuse the flag).
        p.Flags = SetupSubmitAll;
        var ring = (int)Syscall(SysSetup, Entries, (long)&p, 0, 0, 0, 0);
        if (ring < 0 && Marshal.GetLastPInvokeError() == Einval)
        {
            p = default;
            ring = (int)Syscall(SysSetup, Entries, (long)&p, 0, 0, 0, 0);
        }
        if (ring < 0)
        {
            LogUnavailable(logger, Marshal.GetLastPInvokeError());
            return null;
        }
        if (!SupportsSend(ring))
        {
            LogUnavailable(logger, Einval);
            close(ring);
            return null;
        }
        var sqSize = p.SqOff.Array + p.SqEntries * sizeof(uint);
        var cqSize = p.CqOff.Cqes + p.CqEntries * (uint)sizeof(Cqe);
        var single = (p.Features & FeatSingleMmap) != 0;
        var mapping = new Mapping { SqSize = single ? Math.Max(sqSize, cqSize) : sqSize, CqSize = single ? 0 : cqSize, SqesSize = p.SqEntries * (uint)sizeof(Sqe) };
        mapping.Sq = Map(ring, mapping.SqSize, OffSqRing);
        mapping.Cq = single ? mapping.Sq : Map(ring, mapping.CqSize, OffCqRing);
        mapping.Sqes = Map(ring, mapping.SqesSize, OffSqes);
        if (mapping.Sq is null || mapping.Cq is null || mapping.Sqes is null)
        {
            LogUnavailable(logger, Marshal.GetLastPInvokeError());
            mapping.Unmap();
            close(ring);
            return null;
        }
        return new SendRing(ring, p, mapping, logger);
    }

    /// <summary>Closes the ring (once: a second call must not close a descriptor number reused since); only between chunks (nothing queued), on its thread.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = _broken = true;
        _mapping.Unmap();
        close(_ring);
    }

    /// <summary>The ring's three shared regions: submission ring, completion ring (the same one where the kernel maps both at once), entries.</summary>
    private sealed class Mapping
    {
        public byte* Sq, Cq, Sqes;
        public uint SqSize, CqSize, SqesSize;

        public void Unmap()
        {
            if (Sqes is not null) munmap(Sqes, SqesSize);
            if (Cq is not null && Cq != Sq) munmap(Cq, CqSize);
            if (Sq is not null) munmap(Sq, SqSize);
            Sq = Cq = Sqes = null;
        }
    }

    /// <summary>Asks the kernel whether its io_uring has <c>IORING_OP_SEND</c> (5.6 on).</summary>
    private static bool SupportsSend(int ring)
    {
        const int ops = 256;
        var probe = stackalloc byte[16 + ops * 8];
        new Span<byte>(probe, 16 + ops * 8).Clear();
        if (Syscall(SysRegister, ring, RegisterProbe, (long)probe, ops, 0, 0) < 0) return false;
        // struct io_uring_probe: last_op, ops_len, then 8-byte io_uring_probe_op { op, resv, flags (u16), … } from byte 16.
        return probe[0] >= OpSend && (*(ushort*)(probe + 16 + OpSend * 8 + 2) & ProbeOpSupported) != 0;
    }

    private static byte* Map(int ring, uint size, long offset)
    {
        var at = mmap(IntPtr.Zero, size, ProtRead | ProtWrite, MapShared | MapPopulate, ring, offset);
        return at == -1 ? null : (byte*)at;
    }

    private static long Enter(int ring, uint toSubmit, uint minComplete, uint flags) =>
        Syscall(SysEnter, ring, toSubmit, minComplete, flags, 0, 0);

    // System call numbers: the same on x86-64 and arm64 (io_uring came after the tables were unified).
    private const long SysSetup = 425, SysEnter = 426, SysRegister = 427;
    private const uint SetupSubmitAll = 1 << 7;
    private const uint FeatSingleMmap = 1 << 0;
    private const uint EnterGetEvents = 1 << 0;
    private const int RegisterProbe = 8;
    private const ushort ProbeOpSupported = 1 << 0;
    private const byte OpSend = 26;
    private const long OffSqRing = 0, OffCqRing = 0x8000000, OffSqes = 0x10000000;
    private const int ProtRead = 1, ProtWrite = 2, MapShared = 1, MapPopulate = 0x8000;
    private const uint MsgDontWait = 0x40, MsgNoSignal = 0x4000;
    private const int Eintr = 4, Eagain = 11, Ebusy = 16, Einval = 22, Epipe = 32;

    [StructLayout(LayoutKind.Sequential)]
    private struct Sqe
    {
        public byte Opcode, Flags;
        public ushort IoPrio;
        public int Fd;
        public ulong Off, Addr;
        public uint Len, MsgFlags;
        public ulong UserData;
        public ushort BufIndex, Personality;
        public int SpliceFdIn;
        public ulong Addr3, Pad;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Cqe
    {
        public ulong UserData;
        public int Res;
        public uint Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SqOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1;
        public ulong UserAddr;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CqOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Resv1;
        public ulong UserAddr;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Params
    {
        public uint SqEntries, CqEntries, Flags, SqThreadCpu, SqThreadIdle, Features, WqFd, Resv0, Resv1, Resv2;
        public SqOffsets SqOff;
        public CqOffsets CqOff;
    }


    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long Syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr mmap(IntPtr addr, nuint length, int prot, int flags, int fd, long offset);

    [DllImport("libc")]
    private static extern int munmap(void* addr, nuint length);

    [DllImport("libc")]
    private static extern int close(int fd);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "send ring: io_uring not available here (errno {Error}); a fan-out sends one socket at a time")]
    private static partial void LogUnavailable(ILogger logger, int error);
}
