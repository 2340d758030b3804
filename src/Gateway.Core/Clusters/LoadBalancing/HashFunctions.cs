using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Gateway.Clusters.LoadBalancing;

/// <summary>
/// The hash functions Envoy's consistent hashing uses: xxHash64 (<c>HashUtil::xxHash64</c>, seed 0 unless given)
/// and the 64-bit MurmurHash2 of libstdc++'s <c>std::hash&lt;std::string&gt;</c> (<c>MurmurHash::murmurHash2</c>).
/// Strings are hashed as their UTF-8 bytes, as Envoy hashes its string views.
/// </summary>
internal static class HashFunctions
{
    /// <summary>Envoy's <c>MurmurHash::STD_HASH_SEED</c>.</summary>
    public const ulong StdHashSeed = 0xc70f6907UL;

    private const int StackLimit = 256;

    public static ulong XxHash64(ReadOnlySpan<byte> data, ulong seed = 0) => System.IO.Hashing.XxHash64.HashToUInt64(data, (long)seed);

    /// <summary>xxHash64 of <paramref name="text"/>'s UTF-8 bytes; allocates nothing for short strings.</summary>
    public static ulong XxHash64(ReadOnlySpan<char> text, ulong seed = 0)
    {
        var length = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        var buffer = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = Encoding.UTF8.GetBytes(text, buffer);
            return XxHash64(buffer[..written], seed);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>MurmurHash2 64-bit (the libstdc++ variant Envoy ports), of <paramref name="data"/>.</summary>
    public static ulong MurmurHash2(ReadOnlySpan<byte> data, ulong seed = StdHashSeed)
    {
        const ulong mul = 0xc6a4a7935bd1e995UL;
        var length = (ulong)data.Length;
        var aligned = data.Length & ~0x7;
        var hash = seed ^ (length * mul);
        for (var i = 0; i < aligned; i += 8)
        {
            var block = ShiftMix(BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i, 8)) * mul) * mul;
            hash ^= block;
            hash *= mul;
        }
        if ((data.Length & 0x7) != 0)
        {
            // The tail's bytes, the last one most significant (libstdc++'s load_bytes).
            ulong tail = 0;
            for (var i = data.Length - 1; i >= aligned; i--)
            {
                tail = (tail << 8) + data[i];
            }
            hash ^= tail;
            hash *= mul;
        }
        hash = ShiftMix(hash) * mul;
        return ShiftMix(hash);
    }

    /// <summary>MurmurHash2 of <paramref name="text"/>'s UTF-8 bytes.</summary>
    public static ulong MurmurHash2(string text, ulong seed = StdHashSeed) => MurmurHash2(Encoding.UTF8.GetBytes(text), seed);

    private static ulong ShiftMix(ulong v) => v ^ (v >> 47);
}
