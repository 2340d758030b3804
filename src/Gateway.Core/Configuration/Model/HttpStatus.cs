using Gateway.Configuration;

namespace Gateway.Configuration.Types;

/// <summary><c>envoy.type.v3.HttpStatus</c>.</summary>
[EnvoyType("envoy.type.v3.HttpStatus")]
public sealed class HttpStatus : EnvoyMessage
{
    /// <summary>The status (a name such as <c>TooManyRequests</c>, or its number).</summary>
    [ProtoField(1)]
    public HttpStatusCode Code { get; set; }
}

/// <summary>
/// <c>envoy.type.v3.StatusCode</c>, whose value names are PascalCase (<c>TooManyRequests</c>): the members are named
/// exactly so, and read and printed as written.
/// </summary>
[ProtoEnumNamesVerbatim]
#pragma warning disable CA1707, CA1069 // Envoy's names (URITooLong, HTTPVersionNotSupported) as they are.
public enum HttpStatusCode
{
#pragma warning disable CS1591 // The HTTP status names speak for themselves.
    Empty = 0,
    Continue = 100,
    OK = 200,
    Created = 201,
    Accepted = 202,
    NonAuthoritativeInformation = 203,
    NoContent = 204,
    ResetContent = 205,
    PartialContent = 206,
    MultiStatus = 207,
    AlreadyReported = 208,
    IMUsed = 226,
    MultipleChoices = 300,
    MovedPermanently = 301,
    Found = 302,
    SeeOther = 303,
    NotModified = 304,
    UseProxy = 305,
    TemporaryRedirect = 307,
    PermanentRedirect = 308,
    BadRequest = 400,
    Unauthorized = 401,
    PaymentRequired = 402,
    Forbidden = 403,
    NotFound = 404,
    MethodNotAllowed = 405,
    NotAcceptable = 406,
    ProxyAuthenticationRequired = 407,
    RequestTimeout = 408,
    Conflict = 409,
    Gone = 410,
    LengthRequired = 411,
    PreconditionFailed = 412,
    PayloadTooLarge = 413,
    URITooLong = 414,
    UnsupportedMediaType = 415,
    RangeNotSatisfiable = 416,
    ExpectationFailed = 417,
    MisdirectedRequest = 421,
    UnprocessableEntity = 422,
    Locked = 423,
    FailedDependency = 424,
    UpgradeRequired = 426,
    PreconditionRequired = 428,
    TooManyRequests = 429,
    RequestHeaderFieldsTooLarge = 431,
    InternalServerError = 500,
    NotImplemented = 501,
    BadGateway = 502,
    ServiceUnavailable = 503,
    GatewayTimeout = 504,
    HTTPVersionNotSupported = 505,
    VariantAlsoNegotiates = 506,
    InsufficientStorage = 507,
    LoopDetected = 508,
    NotExtended = 510,
    NetworkAuthenticationRequired = 511,
#pragma warning restore CS1591
}
#pragma warning restore CA1707, CA1069
