using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Platform.Grains.Keys;

/// <summary>
/// The whole keyspace as bytes and back — tree, global index and event history — for the keyspace grain's
/// durable state. Compact binary: varint indexes, UTF-8 strings, one record per node and per event.
/// </summary>
/// <remarks>
/// Layout (version 1): <c>"PKS" 1</c>, current index, the tree from the root (name, flags, created and modified
/// index, expiry ticks if it has a TTL, then the value of a key or the children of a directory), then the history
/// oldest first (action, flags, etcd index, node, previous node). A flag marks implicit directories; snapshots
/// written without it load with every directory explicit. Loading checks every key and index and fails
/// with <see cref="InvalidDataException"/> naming what is wrong and where, never with a half-built store.
/// </remarks>
public static class KeyStoreSnapshot
{
    private static ReadOnlySpan<byte> Magic => "PKS"u8;

    private const byte Version = 1;

    private const byte NodeDirectory = 1, NodeHasTtl = 2, NodeHasFlags = 4, NodeImplicit = 8;
    private const byte EventRefresh = 1, EventHasPrevious = 2;
    private const byte SnapshotDir = 1, SnapshotHasValue = 2, SnapshotHasExpiration = 4, SnapshotHasNodes = 8, SnapshotHasFlags = 16, SnapshotImplicit = 32;

    // Keys and values hold no unpaired surrogates (the store refuses them), so UTF-8 is lossless; throw rather than corrupt.
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Serializes <paramref name="store"/>.</summary>
    public static byte[] Save(KeyStore store)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        Save(store, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Serializes <paramref name="store"/> into <paramref name="output"/>.</summary>
    public static void Save(KeyStore store, IBufferWriter<byte> output)
    {
        var writer = new Writer(output);
        writer.Bytes(Magic);
        writer.Byte(Version);
        writer.VarUInt(store.CurrentIndex);
        WriteNode(ref writer, store.Root);
        var history = store.History;
        writer.VarUInt((ulong)history.Count);
        for (var i = 0; i < history.Count; i++)
        {
            var e = history[i];
            writer.Byte((byte)e.Action);
            writer.Byte((byte)((e.Refresh ? EventRefresh : 0) | (e.PrevNode is null ? 0 : EventHasPrevious)));
            writer.VarUInt(e.EtcdIndex);
            WriteSnapshot(ref writer, e.Node);
            if (e.PrevNode is not null) WriteSnapshot(ref writer, e.PrevNode);
        }
    }

    /// <summary>
    /// Rebuilds a store from <paramref name="data"/>. With a <paramref name="historyCapacity"/> smaller than the saved
    /// history, the newest events are kept.
    /// </summary>
    public static KeyStore Load(ReadOnlySpan<byte> data, int historyCapacity = KeyStore.DefaultHistoryCapacity, TimeProvider? timeProvider = null)
    {
        var reader = new Reader(data);
        if (!data.StartsWith(Magic)) throw reader.Corrupt("not a keyspace snapshot (no \"PKS\" header)");
        reader.Skip(Magic.Length);
        var version = reader.Byte("version");
        if (version != Version) throw reader.Corrupt($"version {version} is not supported (expected {Version})");
        var index = reader.VarUInt("current index");

        var root = ReadNode(ref reader, KeyPath.Root, null, index, depth: 0);
        if (!root.IsDirectory || root.HasTtl) throw reader.Corrupt("the root is not a permanent directory");

        var store = new KeyStore(historyCapacity, timeProvider ?? TimeProvider.System, root, index);
        var count = reader.VarUInt("history length");
        var skip = count > (ulong)historyCapacity ? count - (ulong)historyCapacity : 0;
        for (ulong i = 0; i < count; i++)
        {
            var action = reader.Byte("event action");
            if (action > (byte)KeyAction.Expire) throw reader.Corrupt($"unknown event action {action}");
            var flags = reader.Byte("event flags");
            var etcdIndex = reader.VarUInt("event index");
            var node = ReadSnapshot(ref reader, depth: 0);
            var previous = (flags & EventHasPrevious) != 0 ? ReadSnapshot(ref reader, depth: 0) : null;
            if (i < skip) continue;
            var e = new KeyEvent((KeyAction)action, node, previous, etcdIndex, (flags & EventRefresh) != 0);
            if (store.History.Count > 0 && e.Index != store.History.LastIndex + 1)
            {
                throw reader.Corrupt($"event {e} does not follow index {store.History.LastIndex}");
            }
            store.History.Add(e);
        }
        if (store.History.Count > 0 && store.History.LastIndex != index)
        {
            throw reader.Corrupt($"the history ends at index {store.History.LastIndex} but the store is at {index}");
        }
        if (!reader.AtEnd) throw reader.Corrupt("unexpected bytes after the history");
        return store;
    }

    private static void WriteNode(ref Writer writer, KeyNode node)
    {
        writer.String(node.Name);
        writer.Byte((byte)((node.IsDirectory ? NodeDirectory : 0) | (node.HasTtl ? NodeHasTtl : 0) | (node.Flags != 0 ? NodeHasFlags : 0)
            | (node.Implicit ? NodeImplicit : 0)));
        writer.VarUInt(node.CreatedIndex);
        writer.VarUInt(node.ModifiedIndex);
        if (node.HasTtl) writer.Int64(node.ExpiresAtTicks);
        if (node.Flags != 0) writer.VarUInt(node.Flags);
        if (node.Children is null)
        {
            writer.String(node.Value);
            return;
        }
        writer.VarUInt((ulong)node.Children.Count);
        foreach (var child in node.Children.Values) WriteNode(ref writer, child);
    }

    private static KeyNode ReadNode(ref Reader reader, string key, KeyNode? parent, ulong storeIndex, int depth)
    {
        var name = reader.String("node name");
        if (parent is null)
        {
            if (name.Length != 0) throw reader.Corrupt($"the root is named \"{name}\"");
        }
        else
        {
            key = KeyPath.Combine(key, name);
            if (name.Length == 0 || name.Contains('/') || !KeyPath.TryNormalize(key, out var normal, out _) || normal != key)
            {
                throw reader.Corrupt($"invalid node name {KeyPath.Quote(name)} under {KeyPath.Quote(parent.Key)}");
            }
        }
        var flags = reader.Byte("node flags");
        var created = reader.VarUInt("created index");
        var modified = reader.VarUInt("modified index");
        if (created > modified || modified > storeIndex) throw reader.Corrupt($"node {KeyPath.Quote(key)} has indexes {created}/{modified} beyond the store's {storeIndex}");
        var expiresAt = KeyNode.Permanent;
        if ((flags & NodeHasTtl) != 0)
        {
            expiresAt = reader.Int64("expiry");
            if (expiresAt <= 0 || expiresAt > DateTime.MaxValue.Ticks) throw reader.Corrupt($"node {KeyPath.Quote(key)} has an invalid expiry");
        }
        var nodeFlags = (flags & NodeHasFlags) != 0 ? reader.VarUInt("node client flags") : 0;

        if ((flags & NodeDirectory) == 0)
        {
            if (parent is null) throw reader.Corrupt("the root is not a directory");
            var file = KeyNode.NewFile(key, name, parent, reader.String("value"), created, expiresAt);
            file.ModifiedIndex = modified;
            file.Flags = nodeFlags;
            return file;
        }

        var directory = KeyNode.NewDirectory(key, name, parent, created, expiresAt);
        directory.ModifiedIndex = modified;
        directory.Flags = nodeFlags;
        directory.Implicit = (flags & NodeImplicit) != 0;
        var count = reader.VarUInt("child count");
        if (count > 0 && depth >= KeyPath.MaxSegments) throw reader.Corrupt($"the tree is deeper than {KeyPath.MaxSegments}");
        for (ulong i = 0; i < count; i++)
        {
            var child = ReadNode(ref reader, key, directory, storeIndex, depth + 1);
            if (!directory.Children!.TryAdd(child.Name, child)) throw reader.Corrupt($"duplicate node {KeyPath.Quote(child.Key)}");
        }
        return directory;
    }

    private static void WriteSnapshot(ref Writer writer, KeyNodeSnapshot node)
    {
        writer.String(node.Key);
        writer.Byte((byte)((node.Dir ? SnapshotDir : 0) | (node.Value is null ? 0 : SnapshotHasValue)
            | (node.Expiration is null ? 0 : SnapshotHasExpiration) | (node.Nodes is null ? 0 : SnapshotHasNodes) | (node.Flags == 0 ? 0 : SnapshotHasFlags)
            | (node.Implicit ? SnapshotImplicit : 0)));
        writer.VarUInt(node.ModifiedIndex);
        writer.VarUInt(node.CreatedIndex);
        if (node.Flags != 0) writer.VarUInt(node.Flags);
        if (node.Value is not null) writer.String(node.Value);
        if (node.Expiration is { } expiration)
        {
            writer.Int64(expiration.UtcTicks);
            writer.VarUInt((ulong)((node.Ttl << 1) ^ (node.Ttl >> 63)));
        }
        if (node.Nodes is not null)
        {
            writer.VarUInt((ulong)node.Nodes.Count);
            for (var i = 0; i < node.Nodes.Count; i++) WriteSnapshot(ref writer, node.Nodes[i]);
        }
    }

    private static KeyNodeSnapshot ReadSnapshot(ref Reader reader, int depth)
    {
        var key = reader.String("event key");
        if (!KeyPath.TryNormalize(key, out var normal, out _) || normal != key) throw reader.Corrupt($"invalid event key {KeyPath.Quote(key)}");
        var flags = reader.Byte("event node flags");
        var modified = reader.VarUInt("event modified index");
        var created = reader.VarUInt("event created index");
        var clientFlags = (flags & SnapshotHasFlags) != 0 ? reader.VarUInt("event client flags") : 0;
        var value = (flags & SnapshotHasValue) != 0 ? reader.String("event value") : null;
        DateTimeOffset? expiration = null;
        long ttl = 0;
        if ((flags & SnapshotHasExpiration) != 0)
        {
            var ticks = reader.Int64("event expiration");
            if (ticks <= 0 || ticks > DateTime.MaxValue.Ticks) throw reader.Corrupt($"event node {KeyPath.Quote(key)} has an invalid expiration");
            expiration = new DateTimeOffset(ticks, TimeSpan.Zero);
            var zigzag = reader.VarUInt("event ttl");
            ttl = (long)(zigzag >> 1) ^ -(long)(zigzag & 1);
        }
        KeyNodeSnapshot[]? nodes = null;
        if ((flags & SnapshotHasNodes) != 0)
        {
            var count = reader.VarUInt("event node count");
            if (count > 0 && depth >= KeyPath.MaxSegments) throw reader.Corrupt($"an event's node is deeper than {KeyPath.MaxSegments}");
            if (count > (ulong)reader.Remaining) throw reader.Corrupt($"event node count {count} exceeds the data");
            nodes = new KeyNodeSnapshot[count];
            for (var i = 0; i < nodes.Length; i++) nodes[i] = ReadSnapshot(ref reader, depth + 1);
        }
        return new KeyNodeSnapshot(key, value, (flags & SnapshotDir) != 0, expiration, ttl, nodes, modified, created, clientFlags, (flags & SnapshotImplicit) != 0);
    }

    internal ref struct Writer(IBufferWriter<byte> output)
    {
        public readonly void Byte(byte value)
        {
            output.GetSpan(1)[0] = value;
            output.Advance(1);
        }

        public readonly void Bytes(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(output.GetSpan(bytes.Length));
            output.Advance(bytes.Length);
        }

        public readonly void VarUInt(ulong value)
        {
            var span = output.GetSpan(10);
            var i = 0;
            while (value >= 0x80)
            {
                span[i++] = (byte)(value | 0x80);
                value >>= 7;
            }
            span[i++] = (byte)value;
            output.Advance(i);
        }

        public readonly void Int64(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(output.GetSpan(8), value);
            output.Advance(8);
        }

        public readonly void String(string value)
        {
            var length = s_utf8.GetByteCount(value);
            VarUInt((ulong)length);
            var written = s_utf8.GetBytes(value, output.GetSpan(length));
            output.Advance(written);
        }
    }

    internal ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly bool AtEnd => _position == _data.Length;

        public readonly int Remaining => _data.Length - _position;

        public void Skip(int count) => _position += count;

        public byte Byte(string what)
        {
            if (_position >= _data.Length) throw Truncated(what);
            return _data[_position++];
        }

        public ulong VarUInt(string what)
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = Byte(what);
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return value;
            }
            throw Corrupt($"{what} is not a valid varint");
        }

        public long Int64(string what)
        {
            if (Remaining < 8) throw Truncated(what);
            var value = BinaryPrimitives.ReadInt64LittleEndian(_data.Slice(_position, 8));
            _position += 8;
            return value;
        }

        public string String(string what)
        {
            var length = VarUInt(what);
            if (length > (ulong)Remaining) throw Truncated(what);
            string value;
            try
            {
                value = s_utf8.GetString(_data.Slice(_position, (int)length));
            }
            catch (DecoderFallbackException)
            {
                throw Corrupt($"{what} is not valid UTF-8");
            }
            _position += (int)length;
            return value;
        }

        public readonly InvalidDataException Truncated(string what) => Corrupt($"truncated while reading {what}");

        public readonly InvalidDataException Corrupt(string problem) =>
            new($"keyspace snapshot is corrupt at byte {_position} of {_data.Length}: {problem}");
    }
}
