using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Gateway.Xds;

/// <summary>
/// XXH64 with seed 0 (Envoy's HashUtil::xxHash64): a subscription's <c>version</c> gauge is the hash of its
/// <c>version_info</c>, so the value matches Envoy's for the same version string.
/// </summary>
internal static class XxHash64
{
    private const ulong Prime1 = 11400714785074694791UL;
    private const ulong Prime2 = 14029467366897019727UL;
    private const ulong Prime3 = 1609587929392839161UL;
    private const ulong Prime4 = 9650029242287828579UL;
    private const ulong Prime5 = 2870177450012600261UL;

    public static ulong Hash(string text) => Hash(Encoding.UTF8.GetBytes(text));

    public static ulong Hash(ReadOnlySpan<byte> data)
    {
        var length = (ulong)data.Length;
        ulong hash;
        if (data.Length >= 32)
        {
            ulong v1 = unchecked(Prime1 + Prime2), v2 = Prime2, v3 = 0, v4 = unchecked(0 - Prime1);
            while (data.Length >= 32)
            {
                v1 = Round(v1, BinaryPrimitives.ReadUInt64LittleEndian(data));
                v2 = Round(v2, BinaryPrimitives.ReadUInt64LittleEndian(data[8..]));
                v3 = Round(v3, BinaryPrimitives.ReadUInt64LittleEndian(data[16..]));
                v4 = Round(v4, BinaryPrimitives.ReadUInt64LittleEndian(data[24..]));
                data = data[32..];
            }
            hash = unchecked(BitOperations.RotateLeft(v1, 1) + BitOperations.RotateLeft(v2, 7) + BitOperations.RotateLeft(v3, 12) + BitOperations.RotateLeft(v4, 18));
            hash = Merge(hash, v1);
            hash = Merge(hash, v2);
            hash = Merge(hash, v3);
            hash = Merge(hash, v4);
        }
        else
        {
            hash = Prime5;
        }
        hash = unchecked(hash + length);
        while (data.Length >= 8)
        {
            hash ^= Round(0, BinaryPrimitives.ReadUInt64LittleEndian(data));
            hash = unchecked((BitOperations.RotateLeft(hash, 27) * Prime1) + Prime4);
            data = data[8..];
        }
        if (data.Length >= 4)
        {
            hash ^= unchecked(BinaryPrimitives.ReadUInt32LittleEndian(data) * Prime1);
            hash = unchecked((BitOperations.RotateLeft(hash, 23) * Prime2) + Prime3);
            data = data[4..];
        }
        foreach (var b in data)
        {
            hash ^= unchecked(b * Prime5);
            hash = unchecked(BitOperations.RotateLeft(hash, 11) * Prime1);
        }
        hash ^= hash >> 33;
        hash = unchecked(hash * Prime2);
        hash ^= hash >> 29;
        hash = unchecked(hash * Prime3);
        hash ^= hash >> 32;
        return hash;
    }

    private static ulong Round(ulong accumulator, ulong input)
        => unchecked(BitOperations.RotateLeft(accumulator + (input * Prime2), 31) * Prime1);

    private static ulong Merge(ulong hash, ulong value)
        => unchecked(((hash ^ Round(0, value)) * Prime1) + Prime4);
}
