using System.Text.RegularExpressions;
using Gateway.Listeners;
using Gateway.Tracing;

namespace Gateway.Tests.Listeners;

/// <summary>Envoy's UUID request id extension: the id's form, its stable integer and the trace-reason nibble.</summary>
public partial class UuidRequestIdTests
{
    [GeneratedRegex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")]
    private static partial Regex UuidV4();

    [Fact]
    public void Generate_ManyIds_AreLowercaseVersion4WithTheRfc4122Variant()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 1000; i++)
        {
            var id = UuidRequestId.Generate();
            Assert.Matches(UuidV4(), id);
            Assert.Equal(UuidRequestId.NoTrace, id[UuidRequestId.TraceBytePosition]);
            Assert.True(seen.Add(id), $"duplicate {id}");
        }
    }

    [Fact]
    public void Generate_OneId_AllocatesOnlyTheString()
    {
        var bytes = Allocations.Measure(() => UuidRequestId.Generate());

        // A 36-character string is 96 bytes on 64-bit (header, length, 72 bytes of chars, terminator, padding).
        Assert.True(bytes <= 1000 * 96, $"{bytes / 1000.0} bytes per id");
    }

    [Theory]
    [InlineData("a121e9e1-feae-4136-9e0e-6fac343d56c9", 0xa121e9e1UL)]
    [InlineData("00000000-0000-4000-8000-000000000000", 0UL)]
    [InlineData("ffffffff", 0xffffffffUL)]
    [InlineData("ABCDEF01-rest is not read", 0xabcdef01UL)]
    [InlineData("0x1234ab", 0x1234abUL)]
    [InlineData("  12345x", 0UL, false)]
    [InlineData("   12345", 0x12345UL)]
    [InlineData("-0000001", ulong.MaxValue)]
    [InlineData("1234567", 0UL, false)]
    [InlineData("will_be_regenerated", 0UL, false)]
    [InlineData("        ", 0UL, false)]
    [InlineData("0x      ", 0UL, false)]
    public void TryGetInteger_FirstEightCharacters_ParseAsStrtoullBase16(string id, ulong expected, bool parses = true)
    {
        Assert.Equal(parses, UuidRequestId.TryGetInteger(id, out var value));
        if (parses)
        {
            Assert.Equal(expected, value);
        }
    }

    [Theory]
    [InlineData("f4dca0a9-12c7-4307-8002-969403baf480", "NotTraceable")]
    [InlineData("f4dca0a9-12c7-9307-8002-969403baf480", "Sampling")]
    [InlineData("f4dca0a9-12c7-a307-8002-969403baf480", "ServiceForced")]
    [InlineData("f4dca0a9-12c7-b307-8002-969403baf480", "ClientForced")]
    [InlineData("f4dca0a9-12c7-c307-8002-969403baf480", "NotTraceable")]
    [InlineData("f4dca0a9-12c7-a307-8002-969403baf48", "NotTraceable")]
    public void GetTraceReason_Nibble_MapsToEnvoysReason(string id, string expected)
        => Assert.Equal(Enum.Parse<TraceReason>(expected), UuidRequestId.GetTraceReason(id));

    [Theory]
    [InlineData("Sampling", "f4dca0a9-12c7-9307-8002-969403baf480")]
    [InlineData("ServiceForced", "f4dca0a9-12c7-a307-8002-969403baf480")]
    [InlineData("ClientForced", "f4dca0a9-12c7-b307-8002-969403baf480")]
    [InlineData("NotTraceable", "f4dca0a9-12c7-4307-8002-969403baf480")]
    [InlineData("HealthCheck", "f4dca0a9-12c7-4307-8002-969403baf480")]
    public void WithTraceReason_Reason_RewritesCharacter14(string reason, string expected)
        => Assert.Equal(expected, UuidRequestId.WithTraceReason("f4dca0a9-12c7-4307-8002-969403baf480", Enum.Parse<TraceReason>(reason)));

    [Fact]
    public void WithTraceReason_IdOfAnotherLength_IsReturnedUnchanged()
    {
        const string Id = "not-a-uuid";

        Assert.Same(Id, UuidRequestId.WithTraceReason(Id, TraceReason.Sampling));
    }

    [Fact]
    public void WithTraceReason_SameNibble_DoesNotCopy()
    {
        var id = UuidRequestId.Generate();

        Assert.Same(id, UuidRequestId.WithTraceReason(id, TraceReason.NotTraceable));
    }
}
