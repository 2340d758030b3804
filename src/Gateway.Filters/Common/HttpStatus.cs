using Gateway.Configuration;

namespace Gateway.Filters.Common;

/// <summary><c>envoy.type.v3.HttpStatus</c>.</summary>
[EnvoyType("envoy.type.v3.HttpStatus")]
public sealed class HttpStatus : EnvoyMessage
{
    /// <summary>The status (a name such as <c>TooManyRequests</c>, or its number).</summary>
    [ProtoField(1)]
    public HttpStatusCode Code { get; set; }
}

/// <summary>
/// <c>envoy.type.v3.StatusCode</c>. Envoy's value names are PascalCase (<c>TooManyRequests</c>); the binder matches a
/// member's snake_case name ignoring case, so the members are spelled as one word to accept Envoy's names.
/// </summary>
public enum HttpStatusCode
{
#pragma warning disable CS1591 // The HTTP status names speak for themselves.
    Empty = 0,
    Continue = 100,
    Ok = 200,
    Created = 201,
    Accepted = 202,
    Nonauthoritativeinformation = 203,
    Nocontent = 204,
    Resetcontent = 205,
    Partialcontent = 206,
    Multistatus = 207,
    Alreadyreported = 208,
    Imused = 226,
    Multiplechoices = 300,
    Movedpermanently = 301,
    Found = 302,
    Seeother = 303,
    Notmodified = 304,
    Useproxy = 305,
    Temporaryredirect = 307,
    Permanentredirect = 308,
    Badrequest = 400,
    Unauthorized = 401,
    Paymentrequired = 402,
    Forbidden = 403,
    Notfound = 404,
    Methodnotallowed = 405,
    Notacceptable = 406,
    Proxyauthenticationrequired = 407,
    Requesttimeout = 408,
    Conflict = 409,
    Gone = 410,
    Lengthrequired = 411,
    Preconditionfailed = 412,
    Payloadtoolarge = 413,
    Uritoolong = 414,
    Unsupportedmediatype = 415,
    Rangenotsatisfiable = 416,
    Expectationfailed = 417,
    Misdirectedrequest = 421,
    Unprocessableentity = 422,
    Locked = 423,
    Faileddependency = 424,
    Upgraderequired = 426,
    Preconditionrequired = 428,
    Toomanyrequests = 429,
    Requestheaderfieldstoolarge = 431,
    Internalservererror = 500,
    Notimplemented = 501,
    Badgateway = 502,
    Serviceunavailable = 503,
    Gatewaytimeout = 504,
    Httpversionnotsupported = 505,
    Variantalsonegotiates = 506,
    Insufficientstorage = 507,
    Loopdetected = 508,
    Notextended = 510,
    Networkauthenticationrequired = 511,
#pragma warning restore CS1591
}
