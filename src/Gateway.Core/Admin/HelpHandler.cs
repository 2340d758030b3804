using System.Net;
using System.Text;

namespace Gateway.Admin;

/// <summary><c>/</c> (the HTML home page: a table of the endpoints) and <c>/help</c> (the text list).</summary>
internal sealed class HelpHandler(AdminHandler admin)
{
    public IEnumerable<AdminEndpoint> Endpoints() =>
    [
        new("/", "Admin home page", false, _ => new AdminResponse(200, HomePage(), AdminResponse.HtmlContentType)),
        new("/help", "print out list of admin commands", false, _ => AdminResponse.Ok(admin.HelpText())),
    ];

    /// <summary>A table of links to every endpoint; mutating ones are buttons that POST, as on Envoy's home page.</summary>
    private string HomePage()
    {
        var builder = new StringBuilder();
        builder.Append("<!DOCTYPE html>\n<html lang='en'>\n<head>\n  <title>Envoy Admin</title>\n</head>\n<body>\n");
        builder.Append("<table class='home-table'>\n  <thead>\n    <tr><th class='home-data'>Command</th><th class='home-data'>Description</th></tr>\n  </thead>\n  <tbody>\n");
        foreach (var endpoint in admin.Endpoints)
        {
            if (endpoint.Path == "/")
            {
                continue;
            }
            var target = WebUtility.HtmlEncode(endpoint.Path[1..]);
            var link = endpoint.Mutates
                ? $"<form action='{target}' method='post'><button class='button-as-link'>{target}</button></form>"
                : $"<a href='{target}'>{target}</a>";
            builder.Append("    <tr class='vert-space'><td class='home-data'>").Append(link)
                .Append("</td><td class='home-data'>").Append(WebUtility.HtmlEncode(endpoint.Help)).Append("</td></tr>\n");
        }
        builder.Append("  </tbody>\n</table>\n</body>\n</html>\n");
        return builder.ToString();
    }
}
