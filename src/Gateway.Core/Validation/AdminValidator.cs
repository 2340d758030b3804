using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>Checks <c>admin</c>: its bind address, whose port listeners may not reuse, and its access logs.</summary>
internal sealed class AdminValidator(ValidationContext context)
{
    public void Validate(Configuration.Admin admin)
    {
        if (new BindAddressValidator(context).Validate(admin, admin.Address, "address") is { } port)
        {
            context.Ports[port] = admin.LocationOf("address");
        }
        new AccessLogValidator(context).Validate(admin.AccessLog);
    }
}
