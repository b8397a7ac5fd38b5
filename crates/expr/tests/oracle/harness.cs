// The oracle's harness: crates/expr/tests/oracle.rs writes one method per expression in place of
// the METHODS marker, compiles this file with context.cs once (mcs) and runs it once (mono).
// Each expression runs against a fresh context; one output line per expression:
// index TAB ok|exc TAB .NET type (or exception type) TAB canonical rendering.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
// System.Xml is not imported whole: its Formatting would clash with Newtonsoft's.
using XmlReader = System.Xml.XmlReader;
using XmlNodeType = System.Xml.XmlNodeType;
using XmlReaderSettings = System.Xml.XmlReaderSettings;
using DtdProcessing = System.Xml.DtdProcessing;
using ConformanceLevel = System.Xml.ConformanceLevel;
using XmlException = System.Xml.XmlException;
using TaskStatus = System.Threading.Tasks.TaskStatus;
using XmlWriter = System.Xml.XmlWriter;
using XmlWriterSettings = System.Xml.XmlWriterSettings;

public static class Exprs {
//@@METHODS@@
}

public static class Harness {
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    static string Esc(string s) {
        var b = new StringBuilder();
        foreach (var c in s) {
            switch (c) {
                case '\\': b.Append("\\\\"); break;
                case '\n': b.Append("\\n"); break;
                case '\r': b.Append("\\r"); break;
                case '\t': b.Append("\\t"); break;
                default: b.Append(c); break;
            }
        }
        return b.ToString();
    }

    public static string Render(object o) {
        if (o == null) return "null";
        if (o is string) return Esc((string)o);
        if (o is bool) return (bool)o ? "True" : "False";
        if (o is char) return Esc(o.ToString());
        // "R": the round-trip form; the test compares floating results by value.
        if (o is double) return ((double)o).ToString("R", Inv);
        if (o is float) return ((float)o).ToString("R", Inv);
        if (o is JToken) return Esc(((JToken)o).ToString(Formatting.None));
        if (o is XNode) return Esc(o.ToString());
        if (o is byte[]) return Convert.ToBase64String((byte[])o);
        if (o is IFormattable) return Esc(((IFormattable)o).ToString(null, Inv));
        var t = o.GetType();
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(KeyValuePair<,>))
            return "[" + Render(t.GetProperty("Key").GetValue(o, null)) + ", " + Render(t.GetProperty("Value").GetValue(o, null)) + "]";
        if (o is System.Collections.IEnumerable) {
            var parts = new List<string>();
            foreach (var e in (System.Collections.IEnumerable)o) parts.Add(Render(e));
            return "[" + string.Join(", ", parts) + "]";
        }
        return Esc(o.ToString());
    }

    public static void Main(string[] args) {
        System.Threading.Thread.CurrentThread.CurrentCulture = Inv;
        System.Threading.Thread.CurrentThread.CurrentUICulture = Inv;
        var count = int.Parse(args[0], Inv);
        var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false));
        for (var i = 0; i < count; i++) {
            var m = typeof(Exprs).GetMethod("E" + i.ToString(Inv));
            if (m == null) continue;
            string line;
            try {
                var r = m.Invoke(null, new object[] { Fixture.Context() });
                var type = r == null ? "null" : r.GetType().FullName;
                line = "ok\t" + type + "\t" + Render(r);
            } catch (TargetInvocationException e) {
                var inner = e.InnerException ?? e;
                line = "exc\t" + inner.GetType().Name + "\t" + Esc(inner.Message);
            } catch (Exception e) {
                // Rendering itself failed (a lazy sequence throwing while enumerated).
                line = "exc\t" + e.GetType().Name + "\t" + Esc(e.Message);
            }
            output.Write(i.ToString(Inv) + "\t" + line + "\n");
        }
        output.Flush();
    }
}
