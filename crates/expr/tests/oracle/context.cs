// The C# side of the oracle's fixture: a context class tree shaped like APIM's
// (IProxyRequestContext and friends), filled with the same values as the gatehouse fixture in
// crates/expr/tests/oracle/fixture.rs. Keep the two in step: a value that differs here shows up
// as a difference of every expression that reads it.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Xml.Linq;
using Newtonsoft.Json.Linq;

public interface IUrl {
    string Scheme { get; } string Host { get; } int Port { get; } string Path { get; }
    IReadOnlyDictionary<string, string[]> Query { get; } string QueryString { get; }
}

public class Url : IUrl {
    public string Scheme { get; set; } public string Host { get; set; } public int Port { get; set; }
    public string Path { get; set; } public IReadOnlyDictionary<string, string[]> Query { get; set; }
    public string QueryString { get; set; }
    public override string ToString() {
        bool dflt = (Scheme == "https" && Port == 443) || (Scheme == "http" && Port == 80);
        return Scheme + "://" + Host + (dflt ? "" : ":" + Port) + Path + QueryString;
    }
}

public interface IMessageBody {
    T As<T>(bool preserveContent = false);
    IDictionary<string, IList<string>> AsFormUrlEncodedContent(bool preserveContent = false);
}

public class MessageBody : IMessageBody {
    readonly string text;
    public MessageBody(string text) { this.text = text; }
    public T As<T>(bool preserveContent = false) {
        object r;
        var t = typeof(T);
        if (t == typeof(string)) r = text;
        else if (t == typeof(byte[])) r = Encoding.UTF8.GetBytes(text);
        else if (t == typeof(JObject)) r = JObject.Parse(text);
        else if (t == typeof(JArray)) r = JArray.Parse(text);
        else if (t == typeof(JToken)) r = JToken.Parse(text);
        else if (t == typeof(XDocument)) r = XDocument.Parse(text);
        else if (t == typeof(XElement) || t == typeof(XNode)) r = XElement.Parse(text);
        else throw new NotSupportedException("Body.As<" + t.Name + ">");
        return (T)r;
    }
    // The body as a form: pairs split on & and =, each part URL-decoded, repeated keys kept
    // in order.
    public IDictionary<string, IList<string>> AsFormUrlEncodedContent(bool preserveContent = false) {
        var d = new Dictionary<string, IList<string>>();
        foreach (var part in text.Split('&')) {
            if (part.Length == 0) continue;
            int i = part.IndexOf('=');
            var k = System.Net.WebUtility.UrlDecode(i < 0 ? part : part.Substring(0, i));
            var v = System.Net.WebUtility.UrlDecode(i < 0 ? "" : part.Substring(i + 1));
            IList<string> list;
            if (!d.TryGetValue(k, out list)) { list = new List<string>(); d[k] = list; }
            list.Add(v);
        }
        return d;
    }
}

public class Request {
    public string Method { get; set; } public IUrl Url { get; set; } public IUrl OriginalUrl { get; set; }
    public IReadOnlyDictionary<string, string[]> Headers { get; set; } public string IpAddress { get; set; }
    public IReadOnlyDictionary<string, string> MatchedParameters { get; set; }
    public IMessageBody Body { get; set; }
    public System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate { get; set; }
    public object PrivateEndpointConnection { get; set; }
}

// What send-request stores in its response-variable-name.
public interface IResponse {
    IMessageBody Body { get; } IReadOnlyDictionary<string, string[]> Headers { get; }
    int StatusCode { get; } string StatusReason { get; }
}

public class Response : IResponse {
    public IMessageBody Body { get; set; } public IReadOnlyDictionary<string, string[]> Headers { get; set; }
    public int StatusCode { get; set; } public string StatusReason { get; set; }
}

public class Subscription {
    public string Id { get; set; } public string Key { get; set; } public string Name { get; set; }
    public string PrimaryKey { get; set; } public string SecondaryKey { get; set; }
    public DateTime CreatedDate { get; set; } public DateTime? StartDate { get; set; } public DateTime? EndDate { get; set; }
}

public class User {
    public string Id { get; set; } public string Email { get; set; } public string FirstName { get; set; }
    public string LastName { get; set; } public string Note { get; set; } public DateTime RegistrationDate { get; set; }
}

public class Product {
    public string Id { get; set; } public string Name { get; set; } public bool ApprovalRequired { get; set; }
    public bool SubscriptionRequired { get; set; } public int? SubscriptionsLimit { get; set; }
}

// A parsed JWT (`AsJwt()`, validate-jwt's output-token-variable-name).
public class Jwt {
    public string Id { get; set; } public string Algorithm { get; set; } public string Issuer { get; set; }
    public string Subject { get; set; } public string Type { get; set; } public IEnumerable<string> Audiences { get; set; }
    public IReadOnlyDictionary<string, string[]> Claims { get; set; }
    public DateTime? ExpirationTime { get; set; } public DateTime? NotBefore { get; set; } public DateTime? IssuedAt { get; set; }
}

public class Api {
    public string Id { get; set; } public string Name { get; set; } public string Path { get; set; }
    public IUrl ServiceUrl { get; set; }
}

public class Operation {
    public string Id { get; set; } public string Method { get; set; } public string Name { get; set; }
    public string UrlTemplate { get; set; }
}

public class Deployment {
    public string Region { get; set; } public string ServiceName { get; set; } public string GatewayId { get; set; }
    public IReadOnlyDictionary<string, System.Security.Cryptography.X509Certificates.X509Certificate2> Certificates { get; set; }
}

public class BasicAuthCredentials { public string UserId { get; set; } public string Password { get; set; } }

// APIM's string extensions for credentials (crates/expr/src/library/apim_auth.rs): the shape
// is parsed, nothing is verified; what is not one gives null.
public static class AuthExtensions {
    static string Credential(string input, string scheme) {
        var t = input.Trim();
        int i = t.IndexOf(' ');
        if (i > 0 && string.Equals(t.Substring(0, i), scheme, StringComparison.OrdinalIgnoreCase)) return t.Substring(i + 1).Trim();
        return t;
    }
    static JObject Part(string p) {
        try {
            var s = p.TrimEnd('=').Replace('-', '+').Replace('_', '/');
            s += new string('=', (4 - s.Length % 4) % 4);
            return JToken.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(s))) as JObject;
        } catch (Exception) { return null; }
    }
    static string Scalar(JToken t) {
        if (t.Type == JTokenType.String) return (string)t;
        if (t.Type == JTokenType.Null) return "";
        return t.ToString(Newtonsoft.Json.Formatting.None);
    }
    static string[] Strings(JToken t) {
        var a = t as JArray;
        return a != null ? a.Select(Scalar).ToArray() : new[] { Scalar(t) };
    }
    static DateTime? Time(JObject c, string name) {
        JToken t;
        if (!c.TryGetValue(name, out t) || t.Type == JTokenType.Null) return null;
        return new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(Math.Floor((double)t));
    }
    static string Str(JObject o, string name) {
        JToken t;
        return o.TryGetValue(name, out t) && t.Type == JTokenType.String ? (string)t : null;
    }
    public static Jwt AsJwt(this string input) {
        var parts = Credential(input, "Bearer").Split('.');
        if (parts.Length != 3) return null;
        var h = Part(parts[0]); var c = Part(parts[1]);
        if (h == null || c == null) return null;
        JToken aud;
        var claims = new Dictionary<string, string[]>();
        foreach (var p in c.Properties()) claims[p.Name] = Strings(p.Value);
        return new Jwt {
            Algorithm = Str(h, "alg"), Type = Str(h, "typ"), Id = Str(c, "jti"), Issuer = Str(c, "iss"),
            Subject = Str(c, "sub"), Audiences = c.TryGetValue("aud", out aud) ? Strings(aud) : new string[0],
            ExpirationTime = Time(c, "exp"), NotBefore = Time(c, "nbf"), IssuedAt = Time(c, "iat"), Claims = claims,
        };
    }
    public static bool TryParseJwt(this string input, out Jwt result) { result = input.AsJwt(); return result != null; }
    public static BasicAuthCredentials AsBasic(this string input) {
        try {
            var text = new UTF8Encoding(false, true).GetString(Convert.FromBase64String(Credential(input, "Basic")));
            int i = text.IndexOf(':');
            if (i < 0) return null;
            return new BasicAuthCredentials { UserId = text.Substring(0, i), Password = text.Substring(i + 1) };
        } catch (FormatException) { return null; } catch (ArgumentException) { return null; }
    }
    public static bool TryParseBasic(this string input, out BasicAuthCredentials result) { result = input.AsBasic(); return result != null; }
    // APIM's form body written back (crates/expr/src/library/dictionary.rs): each value a pair.
    public static string ToFormUrlEncodedContent(this IDictionary<string, IList<string>> d) {
        var parts = new List<string>();
        foreach (var e in d)
            foreach (var v in e.Value)
                parts.Add(Uri.EscapeDataString(e.Key).Replace("%20", "+") + "=" + Uri.EscapeDataString(v).Replace("%20", "+"));
        return string.Join("&", parts);
    }
}

public class LastError {
    public string Source { get; set; } public string Reason { get; set; } public string Message { get; set; }
    public string Scope { get; set; } public string Section { get; set; } public string Path { get; set; }
    public string PolicyId { get; set; }
}

public class Ctx {
    public Request Request { get; set; } public Response Response { get; set; }
    public Subscription Subscription { get; set; } public User User { get; set; } public Api Api { get; set; }
    public Operation Operation { get; set; } public Deployment Deployment { get; set; } public Product Product { get; set; }
    public LastError LastError { get; set; } public Guid RequestId { get; set; } public DateTime Timestamp { get; set; }
    public TimeSpan Elapsed { get; set; } public bool Tracing { get; set; }
    public IReadOnlyDictionary<string, object> Variables { get; set; }
    public void Trace(string message) { }
}

// APIM's extension methods on the context's dictionaries.
public static class ContextExtensions {
    public static string GetValueOrDefault(this IReadOnlyDictionary<string, string[]> d, string name, string defaultValue = null) {
        string[] v;
        return d.TryGetValue(name, out v) ? string.Join(",", v) : defaultValue;
    }
    public static string GetValueOrDefault(this IReadOnlyDictionary<string, string> d, string name, string defaultValue = null) {
        string v;
        return d.TryGetValue(name, out v) ? v : defaultValue;
    }
    public static object GetValueOrDefault(this IReadOnlyDictionary<string, object> d, string name) {
        object v;
        return d.TryGetValue(name, out v) ? v : null;
    }
    public static T GetValueOrDefault<T>(this IReadOnlyDictionary<string, object> d, string name, T defaultValue = default(T)) {
        object v;
        return d.TryGetValue(name, out v) ? (T)v : defaultValue;
    }
    // .NET's own CollectionExtensions.GetValueOrDefault, which APIM's runtime has too
    // (`jwt.Claims.GetValueOrDefault("oid", new string[] { "" })`).
    public static string[] GetValueOrDefault(this IReadOnlyDictionary<string, string[]> d, string name, string[] defaultValue) {
        string[] v;
        return d.TryGetValue(name, out v) ? v : defaultValue;
    }
    // APIM's symmetric encryption of a byte array: the algorithm by name, CBC with PKCS#7.
    public static byte[] Encrypt(this byte[] input, string alg, byte[] key, byte[] iv) {
        using (var a = System.Security.Cryptography.SymmetricAlgorithm.Create(alg)) {
            a.Key = key; a.IV = iv;
            using (var t = a.CreateEncryptor()) return t.TransformFinalBlock(input, 0, input.Length);
        }
    }
    public static byte[] Decrypt(this byte[] input, string alg, byte[] key, byte[] iv) {
        using (var a = System.Security.Cryptography.SymmetricAlgorithm.Create(alg)) {
            a.Key = key; a.IV = iv;
            using (var t = a.CreateDecryptor()) return t.TransformFinalBlock(input, 0, input.Length);
        }
    }
}

public static class Fixture {
    static IReadOnlyDictionary<string, string[]> Multi(params string[][] kv) {
        var d = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var e in kv) d[e[0]] = e.Skip(1).ToArray();
        return d;
    }

    public static Ctx Context() {
        var query = Multi(new[] { "a", "1" }, new[] { "b", "two" });
        var url = new Url { Scheme = "https", Host = "api.example.com", Port = 443, Path = "/orders/42",
            Query = query, QueryString = "?a=1&b=two" };
        return new Ctx {
            Request = new Request {
                Method = "POST", Url = url, OriginalUrl = url, IpAddress = "10.0.0.7",
                Headers = Multi(new[] { "Authorization", "Bearer abc.def" }, new[] { "Accept", "application/json" },
                    new[] { "X-Multi", "a", "b" }),
                MatchedParameters = new Dictionary<string, string> { { "id", "42" } },
                Body = new MessageBody("{\"name\":\"x\",\"items\":[1,2,3],\"nested\":{\"k\":\"v\"}}"),
            },
            Subscription = new Subscription { Id = "sub-1", Key = "key-123", Name = "Starter",
                PrimaryKey = "key-123", SecondaryKey = "key-456",
                CreatedDate = new DateTime(2023, 5, 6, 7, 8, 9, DateTimeKind.Utc) },
            User = new User { Id = "user-1", Email = "ada@example.com", FirstName = "Ada", LastName = "Lovelace",
                RegistrationDate = new DateTime(2022, 1, 1, 0, 0, 0, DateTimeKind.Utc) },
            Api = new Api { Id = "orders-api", Name = "orders", Path = "/orders",
                ServiceUrl = new Url { Scheme = "http", Host = "backend.internal", Port = 8080, Path = "/v1",
                    Query = Multi(), QueryString = "" } },
            Product = new Product { Id = "starter", Name = "Starter", ApprovalRequired = false,
                SubscriptionRequired = true, SubscriptionsLimit = 1 },
            Operation = new Operation { Id = "get-order", Method = "GET", Name = "GetOrder", UrlTemplate = "/orders/{id}" },
            Deployment = new Deployment { Region = "West Europe", ServiceName = "gh", GatewayId = "managed",
                Certificates = new Dictionary<string, System.Security.Cryptography.X509Certificates.X509Certificate2>() },
            RequestId = new Guid("6f9619ff-8b86-d011-b42d-00cf4fc964ff"),
            Timestamp = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc),
            Elapsed = TimeSpan.FromMilliseconds(1500),
            Tracing = false,
            Variables = new Dictionary<string, object> {
                { "status", "403" }, { "count", 3 }, { "flag", true }, { "name", "gatehouse" },
            },
        };
    }
}
