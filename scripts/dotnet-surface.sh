#!/usr/bin/env bash
# Lists the public members of every .NET type APIM allows in policy expressions (the table of
# MicrosoftDocs azure-docs articles/api-management/api-management-policy-expressions.md), by
# reflection under Mono, into crates/expr/tests/oracle/dotnet-members.txt: one line per member
# (overloads folded): type, member, kind (method, property, field, constructor, event),
# static|instance. Types APIM allows only some members of list just those. A type Mono lacks is
# kept as a `# missing` line. crates/expr/tests/surface.rs reads the file and builds the
# "Expressions: .NET surface" table of docs/policies.md from it.
# Needs mono-mcs, mono-runtime, libmono-system-xml-linq4.0-cil, libnewtonsoft-json5.0-cil
# (scripts/test.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
out=crates/expr/tests/oracle/dotnet-members.txt
newtonsoft=/usr/lib/cli/Newtonsoft.Json-5.0/Newtonsoft.Json.dll
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# type | members ("*" = all public members; ".ctor" = the constructors)
cat >"$work/types.txt" <<'TYPES'
Newtonsoft.Json.Formatting|*
Newtonsoft.Json.JsonConvert|SerializeObject,DeserializeObject
Newtonsoft.Json.Linq.Extensions|*
Newtonsoft.Json.Linq.JArray|*
Newtonsoft.Json.Linq.JConstructor|*
Newtonsoft.Json.Linq.JContainer|*
Newtonsoft.Json.Linq.JObject|*
Newtonsoft.Json.Linq.JProperty|*
Newtonsoft.Json.Linq.JRaw|*
Newtonsoft.Json.Linq.JToken|*
Newtonsoft.Json.Linq.JTokenType|*
Newtonsoft.Json.Linq.JValue|*
System.Array|*
System.BitConverter|*
System.Boolean|*
System.Byte|*
System.Char|*
System.Collections.Generic.Dictionary`2|*
System.Collections.Generic.HashSet`1|*
System.Collections.Generic.ICollection`1|*
System.Collections.Generic.IDictionary`2|*
System.Collections.Generic.IEnumerable`1|*
System.Collections.Generic.IEnumerator`1|*
System.Collections.Generic.IList`1|*
System.Collections.Generic.IReadOnlyCollection`1|*
System.Collections.Generic.IReadOnlyDictionary`2|*
System.Collections.Generic.ISet`1|*
System.Collections.Generic.KeyValuePair`2|*
System.Collections.Generic.List`1|*
System.Collections.Generic.Queue`1|*
System.Collections.Generic.Stack`1|*
System.Convert|*
System.DateTime|.ctor,Add,AddDays,AddHours,AddMilliseconds,AddMinutes,AddMonths,AddSeconds,AddTicks,AddYears,Date,Day,DayOfWeek,DayOfYear,DaysInMonth,Hour,IsDaylightSavingTime,IsLeapYear,MaxValue,Millisecond,Minute,MinValue,Month,Now,Parse,Second,Subtract,Ticks,TimeOfDay,Today,ToString,UtcNow,Year
System.DateTimeKind|Utc
System.DateTimeOffset|*
System.Decimal|*
System.Double|*
System.Exception|*
System.Guid|*
System.Int16|*
System.Int32|*
System.Int64|*
System.IO.StringReader|*
System.IO.StringWriter|*
System.Linq.Enumerable|*
System.Math|*
System.MidpointRounding|*
System.Net.IPAddress|*
System.Net.WebUtility|*
System.Nullable|*
System.Random|*
System.SByte|*
System.Security.Cryptography.AsymmetricAlgorithm|*
System.Security.Cryptography.CipherMode|*
System.Security.Cryptography.HashAlgorithm|*
System.Security.Cryptography.HashAlgorithmName|*
System.Security.Cryptography.HMAC|*
System.Security.Cryptography.HMACMD5|*
System.Security.Cryptography.HMACSHA1|*
System.Security.Cryptography.HMACSHA256|*
System.Security.Cryptography.HMACSHA384|*
System.Security.Cryptography.HMACSHA512|*
System.Security.Cryptography.KeyedHashAlgorithm|*
System.Security.Cryptography.MD5|*
System.Security.Cryptography.Oid|*
System.Security.Cryptography.PaddingMode|*
System.Security.Cryptography.RNGCryptoServiceProvider|*
System.Security.Cryptography.RSA|*
System.Security.Cryptography.RSAEncryptionPadding|*
System.Security.Cryptography.RSASignaturePadding|*
System.Security.Cryptography.SHA1|*
System.Security.Cryptography.SHA1Managed|*
System.Security.Cryptography.SHA256|*
System.Security.Cryptography.SHA256Managed|*
System.Security.Cryptography.SHA384|*
System.Security.Cryptography.SHA384Managed|*
System.Security.Cryptography.SHA512|*
System.Security.Cryptography.SHA512Managed|*
System.Security.Cryptography.SymmetricAlgorithm|*
System.Security.Cryptography.X509Certificates.PublicKey|*
System.Security.Cryptography.X509Certificates.RSACertificateExtensions|*
System.Security.Cryptography.X509Certificates.X500DistinguishedName|Name
System.Security.Cryptography.X509Certificates.X509Certificate|*
System.Security.Cryptography.X509Certificates.X509Certificate2|*
System.Security.Cryptography.X509Certificates.X509ContentType|*
System.Security.Cryptography.X509Certificates.X509NameType|*
System.Single|*
System.String|*
System.StringComparer|*
System.StringComparison|*
System.StringSplitOptions|*
System.Text.Encoding|*
System.Text.RegularExpressions.Capture|Index,Length,Value
System.Text.RegularExpressions.CaptureCollection|Count,Item
System.Text.RegularExpressions.Group|Captures,Success
System.Text.RegularExpressions.GroupCollection|Count,Item
System.Text.RegularExpressions.Match|Empty,Groups,Result
System.Text.RegularExpressions.Regex|.ctor,IsMatch,Match,Matches,Replace,Unescape,Split
System.Text.RegularExpressions.RegexOptions|*
System.Text.StringBuilder|*
System.TimeSpan|*
System.TimeZone|*
System.TimeZoneInfo|*
System.TimeZoneInfo+AdjustmentRule|*
System.TimeZoneInfo+TransitionTime|*
System.Tuple|*
System.UInt16|*
System.UInt32|*
System.UInt64|*
System.Uri|*
System.UriPartial|*
System.Xml.Linq.Extensions|*
System.Xml.Linq.XAttribute|*
System.Xml.Linq.XCData|*
System.Xml.Linq.XComment|*
System.Xml.Linq.XContainer|*
System.Xml.Linq.XDeclaration|*
System.Xml.Linq.XDocument|-Load
System.Xml.Linq.XDocumentType|*
System.Xml.Linq.XElement|*
System.Xml.Linq.XName|*
System.Xml.Linq.XNamespace|*
System.Xml.Linq.XNode|*
System.Xml.Linq.XNodeDocumentOrderComparer|*
System.Xml.Linq.XNodeEqualityComparer|*
System.Xml.Linq.XObject|*
System.Xml.Linq.XProcessingInstruction|*
System.Xml.Linq.XText|*
System.Xml.XmlNodeType|*
System.Xml.XmlReader|*
TYPES

cat >"$work/surface.cs" <<'CS'
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;

public static class Surface {
    public static void Main(string[] args) {
        var assemblies = new[] {
            typeof(object).Assembly, typeof(Uri).Assembly, typeof(Enumerable).Assembly,
            typeof(System.Xml.Linq.XElement).Assembly, typeof(System.Xml.XmlReader).Assembly,
            typeof(Newtonsoft.Json.JsonConvert).Assembly,
        };
        var lines = new SortedSet<string>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var spec in File.ReadAllLines(args[0])) {
            if (spec.Trim().Length == 0) continue;
            var parts = spec.Split('|');
            var type = assemblies.Select(a => a.GetType(parts[0])).FirstOrDefault(t => t != null);
            if (type == null) { missing.Add(parts[0]); continue; }
            var only = parts[1] == "*" || parts[1].StartsWith("-") ? null : new HashSet<string>(parts[1].Split(','));
            var except = parts[1].StartsWith("-") ? new HashSet<string>(parts[1].Substring(1).Split(',')) : new HashSet<string>();
            var flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.FlattenHierarchy;
            var members = type.GetMembers(flags).ToList();
            // An interface's members include those of the interfaces it extends.
            if (type.IsInterface) foreach (var i in type.GetInterfaces()) members.AddRange(i.GetMembers());
            foreach (var m in members) {
                string kind; bool isStatic;
                var method = m as MethodBase;
                if (method != null) {
                    if (method.IsSpecialName && !(method is ConstructorInfo)) continue;
                    kind = method is ConstructorInfo ? "constructor" : "method";
                    isStatic = method.IsStatic;
                } else if (m is PropertyInfo) {
                    var g = ((PropertyInfo)m).GetGetMethod() ?? ((PropertyInfo)m).GetSetMethod();
                    kind = "property"; isStatic = g != null && g.IsStatic;
                } else if (m is FieldInfo) {
                    if (((FieldInfo)m).IsSpecialName) continue;
                    kind = "field"; isStatic = ((FieldInfo)m).IsStatic;
                } else if (m is EventInfo) {
                    kind = "event"; isStatic = false;
                } else continue;
                // A static class has no instances: the instance members it inherits from
                // System.Object (Math.GetHashCode…) cannot be called, so they are not surface.
                if (type.IsAbstract && type.IsSealed && !isStatic) continue;
                var name = m.Name;
                if (only != null && !only.Contains(name)) continue;
                if (except.Contains(name)) continue;
                lines.Add(parts[0] + "\t" + name + "\t" + kind + "\t" + (isStatic ? "static" : "instance"));
            }
        }
        Console.WriteLine("# Public members of the .NET types APIM allows in policy expressions, by reflection under Mono");
        Console.WriteLine("# (generated by scripts/dotnet-surface.sh; do not edit): type, member, kind, static|instance.");
        foreach (var t in missing) Console.WriteLine("# missing in Mono: " + t);
        foreach (var l in lines) Console.WriteLine(l);
    }
}
CS
mcs -nologo -out:"$work/surface.exe" -r:System.Xml.Linq.dll -r:System.Xml.dll -r:System.Core.dll \
  -r:"$newtonsoft" "$work/surface.cs"
cp "$newtonsoft" "$work/"
mono "$work/surface.exe" "$work/types.txt" >"$out"
echo "wrote $out: $(grep -vc '^#' "$out") members"
