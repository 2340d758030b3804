namespace Gateway.IO;

/// <summary>The members every non-seekable, one-direction stream (a body wrapper of the gateway or of a filter) answers the same way.</summary>
internal abstract class ForwardOnlyStream : Stream
{
    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Flush()
    {
    }
}

/// <summary>A stream that is only read.</summary>
internal abstract class ReadOnlyForwardStream : ForwardOnlyStream
{
    public override bool CanRead => true;

    public override bool CanWrite => false;

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A stream that is only written.</summary>
internal abstract class WriteOnlyForwardStream : ForwardOnlyStream
{
    public override bool CanRead => false;

    public override bool CanWrite => true;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
