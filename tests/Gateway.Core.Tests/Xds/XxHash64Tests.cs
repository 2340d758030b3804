using Gateway.Xds;
using Xunit;

namespace Gateway.Tests.Xds;

public sealed class XxHash64Tests
{
    // The reference implementation's values for seed 0 (xxhsum -H64).
    [Theory]
    [InlineData("", 0xEF46DB3751D8E999UL)]
    [InlineData("a", 0xD24EC4F1A98C6E5BUL)]
    [InlineData("abc", 0x44BC2CF5AD770999UL)]
    [InlineData("Nobody inspects the spammish repetition", 0xFBCEA83C8A378BF1UL)]
    public void Hash_KnownInputs_MatchTheReference(string text, ulong expected) => Assert.Equal(expected, XxHash64.Hash(text));

    [Fact]
    public void Hash_InputOverOneStripe_MatchesTheReference()
        // 32 bytes or more go through the four-accumulator loop (value from an independent implementation of the spec).
        => Assert.Equal(0x92F0DE5A88A3C094UL, XxHash64.Hash(new string('x', 100)));
}
