//! What the library knows, as data: feature labels for `Program::features`, the types and static
//! members it implements, the shape of APIM's `context`, and the instance methods of strings,
//! sequences and collections. The parser and the `policy check` scan read these tables; the
//! run-time library (crates/expr/src/library) implements them. Kept apart so that neither the
//! parser nor the scan depend on the interpreter.

/// Feature label for a name seen in the source (type or member), for `Program::features`.
pub(crate) fn feature_of(name: &str) -> Option<&'static str> {
    Some(match name {
        "context" => "context",
        "JObject" | "JArray" | "JToken" | "JValue" | "JProperty" | "JsonConvert" | "Value" => {
            "json"
        }
        "Regex" | "RegexOptions" => "regex",
        "ComputeHash" => "crypto",
        _ if name != "BitConverter" && crate::library::crypto::is_crypto_type(name) => "crypto",
        "Where" | "Select" | "Any" | "All" | "First" | "FirstOrDefault" | "Count" | "ToArray"
        | "ToList" | "Last" | "LastOrDefault" | "Skip" | "Take" | "OrderBy" | "Distinct"
        | "Sum" => "linq",
        "DateTime" | "TimeSpan" | "DateTimeOffset" => "datetime",
        "Convert" => "convert",
        "XElement" | "XDocument" | "XAttribute" => "xml",
        "Encoding" | "UTF8" => "encoding",
        "Guid" => "guid",
        "Math" => "math",
        "Uri" => "uri",
        "Substring" | "IndexOf" | "Split" | "Replace" | "StartsWith" | "EndsWith" | "ToLower"
        | "ToUpper" | "Trim" | "Format" | "Join" | "IsNullOrEmpty" => "string",
        _ => return None,
    })
}

/// Types whose static members and constructors the library knows.
pub(crate) fn is_type(name: &str) -> bool {
    crate::library::OBJECT_TYPES.contains(&name)
        || crate::library::is_rule_type(name)
        || crate::library::crypto::is_crypto_type(name)
        || crate::library::net::is_net_type(name)
        || crate::library::is_enum_type(name)
        || matches!(
            name,
            "string"
                | "int"
                | "long"
                | "double"
                | "float"
                | "decimal"
                | "bool"
                | "char"
                | "byte"
                | "Convert"
                | "Encoding"
                | "Math"
                | "DateTime"
                | "DateTimeOffset"
                | "TimeSpan"
                | "TimeZoneInfo"
                | "TimeZone"
                | "Guid"
                | "Regex"
                | "RegexOptions"
                | "JObject"
                | "JArray"
                | "JToken"
                | "JValue"
                | "JProperty"
                | "JsonConvert"
                | "Formatting"
                | "StringComparison"
                | "Uri"
                | "WebUtility"
                | "Enumerable"
                | "StringSplitOptions"
                | "Array"
                | "short"
                | "sbyte"
                | "ushort"
                | "uint"
                | "ulong"
                | "XElement"
                | "XDocument"
                | "XNode"
                | "XContainer"
                | "XAttribute"
                | "XText"
                | "XCData"
                | "XComment"
                | "XProcessingInstruction"
                | "XDocumentType"
                | "XNamespace"
                | "XName"
                | "SaveOptions"
                | "LoadOptions"
                | "XmlReader"
                | "XmlReaderSettings"
                | "XmlWriter"
                | "XmlWriterSettings"
                | "CancellationToken"
                | "DtdProcessing"
                | "ConformanceLevel"
                | "XmlNodeType"
                | "MidpointRounding"
                | "NormalizationForm"
                | "CultureInfo"
        )
}

pub(crate) const MUTATORS: &[&str] = &[
    "Add",
    "Remove",
    "RemoveAt",
    "Insert",
    "Clear",
    "AddRange",
    "InsertRange",
    "RemoveRange",
    "Merge",
    "TryAdd",
    // LINQ to XML's (crates/expr/src/library/xml_mutate.rs: nodes are edited through any
    // reference; crates/expr/src/interp/calls.rs keeps them off the local-slot path).
    "AddFirst",
    "SetAttributeValue",
    "SetElementValue",
    "SetValue",
    "RemoveNodes",
    "RemoveAttributes",
    "RemoveAll",
    "ReplaceNodes",
    "ReplaceAll",
    // `List<T>.Sort()` (arrays have no instance `Sort`: `Array.Sort` is static).
    "Sort",
];

/// The shape of APIM's `context`: objects (navigated lazily), dictionaries, bodies.
pub(crate) fn is_object(p: &[&str]) -> bool {
    matches!(
        p,
        ["Request"]
            | ["Request", "Url"]
            | ["Request", "OriginalUrl"]
            | ["Request", "PrivateEndpointConnection"]
            | ["Response"]
            | ["Subscription"]
            | ["Product"]
            | ["Api"]
            | ["Api", "ServiceUrl"]
            | ["Operation"]
            | ["User"]
            | ["Deployment"]
            | ["LastError"]
    )
}

pub(crate) fn is_dictionary(p: &[&str]) -> bool {
    matches!(
        p,
        ["Request", "Headers"]
            | ["Response", "Headers"]
            | ["Request", "Url", "Query"]
            | ["Request", "OriginalUrl", "Query"]
            | ["Request", "MatchedParameters"]
            | ["Variables"]
    )
}

pub(crate) fn is_body(p: &[&str]) -> bool {
    matches!(p, ["Request", "Body"] | ["Response", "Body"])
}

/// Scalar members each context object has; anything else is an unknown member.
pub(crate) fn scalar_members(p: &[&str]) -> &'static [&'static str] {
    match p {
        [] => &["RequestId", "Timestamp", "Elapsed", "Tracing"],
        ["Request"] => &["Method", "IpAddress", "Certificate"],
        ["Request", "Url"] | ["Request", "OriginalUrl"] | ["Api", "ServiceUrl"] => {
            &["Scheme", "Host", "Port", "Path", "QueryString"]
        }
        ["Request", "PrivateEndpointConnection"] => &["Name", "GroupId", "MemberName"],
        ["Response"] => &["StatusCode", "StatusReason"],
        ["Subscription"] => &[
            "Id",
            "Key",
            "Name",
            "PrimaryKey",
            "SecondaryKey",
            "CreatedDate",
            "StartDate",
            "EndDate",
        ],
        ["Product"] => &[
            "Id",
            "Name",
            "ApprovalRequired",
            "State",
            "SubscriptionRequired",
            "SubscriptionsLimit",
            "Groups",
            "Apis",
        ],
        ["Api"] => &[
            "Id",
            "Name",
            "Path",
            "Revision",
            "Version",
            "IsCurrentRevision",
            "Protocols",
            "SubscriptionKeyParameterNames",
        ],
        ["Operation"] => &["Id", "Name", "Method", "UrlTemplate"],
        ["User"] => &[
            "Id",
            "Email",
            "FirstName",
            "LastName",
            "Note",
            "RegistrationDate",
            "Groups",
            "Identities",
        ],
        ["Deployment"] => &[
            "Region",
            "ServiceName",
            "ServiceId",
            "GatewayId",
            "Certificates",
        ],
        ["LastError"] => &[
            "Source", "Reason", "Message", "Scope", "Section", "Path", "PolicyId",
        ],
        _ => &[],
    }
}

/// The types whose `TryParse` the library implements.
pub(crate) const TRY_PARSE_TYPES: &[&str] = &[
    "int",
    "char",
    "long",
    "short",
    "byte",
    "sbyte",
    "ushort",
    "uint",
    "ulong",
    "double",
    "float",
    "decimal",
    "bool",
    "Guid",
    "DateTime",
    "DateTimeOffset",
    "TimeSpan",
];

/// Whether [`call_static`] (`call`) or [`static_property`] knows `ty.name`: what `policy
/// check` uses to report unsupported members. Keep in step with those two functions.
pub(crate) fn static_member_exists(ty: &str, name: &str, call: bool) -> bool {
    // Object's statics, inherited by every type (crates/expr/src/library/objects.rs).
    if call && crate::library::is_object_static(name) && is_type(ty) {
        return true;
    }
    // System.Enum's statics and the enums' values (crates/expr/src/library/enums.rs).
    if (call && crate::library::enum_static_exists(ty, name))
        || (!call && crate::library::enum_property_exists(ty, name))
    {
        return true;
    }
    if crate::library::misc_static_exists(ty, name, call) {
        return true;
    }
    if let Some(known) = crate::library::crypto::static_exists(ty, name, call)
        .or_else(|| crate::library::net::static_exists(ty, name, call))
        .or_else(|| crate::library::comparer_static_exists(ty, name, call))
    {
        return known;
    }
    if crate::library::is_rule_type(ty) {
        return call && crate::library::rule_static_exists(ty, name);
    }
    if crate::library::json_special_static_exists(ty, name, call) {
        return true;
    }
    if call {
        if name == "TryParse" {
            return TRY_PARSE_TYPES.contains(&ty);
        }
        if name == "TryParseExact" {
            return matches!(ty, "DateTime" | "DateTimeOffset" | "TimeSpan" | "Guid");
        }
        return match ty {
            "string" => matches!(
                name,
                "IsNullOrEmpty"
                    | "IsNullOrWhiteSpace"
                    | "Format"
                    | "Join"
                    | "Concat"
                    | "Equals"
                    | "Compare"
                    | "CompareOrdinal"
                    | "Copy"
                    | "Create"
            ),
            "Convert" => matches!(
                name,
                "ToBase64String"
                    | "FromBase64String"
                    | "ToHexString"
                    | "ToInt32"
                    | "ToInt16"
                    | "ToSByte"
                    | "ToUInt16"
                    | "ToUInt32"
                    | "ToUInt64"
                    | "ToByte"
                    | "ToInt64"
                    | "ToDouble"
                    | "ToDecimal"
                    | "ToSingle"
                    | "ToBoolean"
                    | "ToString"
                    | "ToChar"
                    | "FromHexString"
                    | "ChangeType"
                    | "GetTypeCode"
                    | "IsDBNull"
            ),
            _ if crate::numeric::Kind::named(ty).is_some() => {
                crate::library::numeric_static_exists(ty, name, true)
            }
            "bool" | "Guid" => {
                name == "Parse"
                    || (ty == "Guid" && matches!(name, "NewGuid" | "ParseExact" | "TryParseExact"))
            }
            "Math" => crate::library::MATH_METHODS.contains(&name),
            "char" => {
                crate::library::CHAR_METHODS.contains(&name)
                    || crate::library::CHAR_UNICODE_METHODS.contains(&name)
            }
            "DateTime" => matches!(
                name,
                "Parse" | "ParseExact" | "IsLeapYear" | "DaysInMonth" | "SpecifyKind"
            ),
            "DateTimeOffset" => matches!(
                name,
                "Parse"
                    | "ParseExact"
                    | "FromUnixTimeSeconds"
                    | "FromUnixTimeMilliseconds"
                    | "FromFileTime"
                    | "Compare"
            ),
            "TimeZoneInfo" => matches!(
                name,
                "FindSystemTimeZoneById"
                    | "GetSystemTimeZones"
                    | "ConvertTime"
                    | "ConvertTimeFromUtc"
                    | "ConvertTimeToUtc"
                    | "ConvertTimeBySystemTimeZoneId"
                    | "ClearCachedData"
                    | "CreateCustomTimeZone"
                    | "FromSerializedString"
            ),
            "TimeSpan" => matches!(
                name,
                "FromMilliseconds"
                    | "FromSeconds"
                    | "FromMinutes"
                    | "FromHours"
                    | "FromDays"
                    | "FromTicks"
                    | "Parse"
                    | "ParseExact"
                    | "Compare"
                    | "Equals"
            ),
            "Regex" => matches!(
                name,
                "IsMatch" | "Match" | "Matches" | "Replace" | "Split" | "Escape" | "Unescape"
            ),
            "JObject" | "JArray" | "JToken" => {
                matches!(
                    name,
                    "Parse" | "FromObject" | "DeepEquals" | "ReferenceEquals"
                )
            }
            "JProperty" => matches!(
                name,
                "DeepEquals" | "ReferenceEquals" | "Parse" | "FromObject"
            ),
            "JValue" => matches!(
                name,
                "DeepEquals"
                    | "CreateNull"
                    | "CreateString"
                    | "ReferenceEquals"
                    | "Parse"
                    | "FromObject"
            ),
            "XElement" | "XDocument" => {
                matches!(name, "Parse" | "Load")
                    || crate::library::xml_build_member_exists(ty, name, true)
            }
            "XNode"
            | "XNamespace"
            | "XName"
            | "XContainer"
            | "XText"
            | "XCData"
            | "XComment"
            | "XProcessingInstruction"
            | "XDocumentType" => crate::library::xml_build_member_exists(ty, name, true),
            "XmlReader" => matches!(name, "Create" | "IsName" | "IsNameToken"),
            "StringReader" | "StringWriter" => name == "Synchronized",
            "XmlWriter" => crate::library::xml_writer_static_exists(ty, name),
            "JsonConvert" => matches!(name, "SerializeObject" | "DeserializeObject"),
            "Uri" => matches!(
                name,
                "EscapeDataString" | "EscapeUriString" | "UnescapeDataString"
            ),
            "WebUtility" => matches!(
                name,
                "UrlEncode"
                    | "UrlDecode"
                    | "HtmlEncode"
                    | "HtmlDecode"
                    | "UrlEncodeToBytes"
                    | "UrlDecodeToBytes"
            ),
            // Handled by the interpreter: it writes into its destination argument.
            "Array" => crate::library::array_member_exists(name, true),
            "Enumerable" => matches!(name, "Range" | "Repeat" | "Empty"),
            "Tuple" => name == "Create",
            "Encoding" => matches!(name, "GetEncoding" | "Convert"),
            "Nullable" => matches!(name, "Compare" | "GetUnderlyingType"),
            "HashSet" => name == "CreateSetComparer",
            _ => false,
        };
    }
    match ty {
        "DateTime" => matches!(
            name,
            "UtcNow" | "Now" | "Today" | "UtcToday" | "MinValue" | "MaxValue" | "UnixEpoch"
        ),
        "DateTimeOffset" => matches!(
            name,
            "UtcNow" | "Now" | "MinValue" | "MaxValue" | "UnixEpoch"
        ),
        "TimeSpan" => matches!(
            name,
            "Zero"
                | "MaxValue"
                | "MinValue"
                | "TicksPerDay"
                | "TicksPerHour"
                | "TicksPerMinute"
                | "TicksPerSecond"
                | "TicksPerMillisecond"
        ),
        "TimeZoneInfo" => matches!(name, "Utc" | "Local"),
        "TimeZone" => name == "CurrentTimeZone",
        "Guid" | "string" | "Match" => name == "Empty",
        _ if crate::numeric::Kind::named(ty).is_some() => {
            crate::library::numeric_static_exists(ty, name, false)
        }
        // A char method used as a delegate: `s.Where(char.IsDigit)`.
        "char" => {
            crate::library::CHAR_METHODS.contains(&name) || matches!(name, "MaxValue" | "MinValue")
        }
        "MidpointRounding" => crate::library::MIDPOINT_ROUNDING.contains(&name),
        "Math" => matches!(name, "PI" | "E"),
        "Encoding" => crate::library::TextEncoding::named(name).is_some(),
        "StringComparison" | "StringSplitOptions" => true,
        "CultureInfo" => name == "InvariantCulture",
        "NormalizationForm" => matches!(name, "FormC" | "FormD" | "FormKC" | "FormKD"),
        "RegexOptions" => matches!(
            name,
            "None"
                | "IgnoreCase"
                | "Multiline"
                | "Singleline"
                | "IgnorePatternWhitespace"
                | "Compiled"
                | "CultureInvariant"
                | "ExplicitCapture"
        ),
        "Formatting" => matches!(name, "None" | "Indented"),
        "XmlNodeType" => crate::library::XML_NODE_TYPES.contains(&name),
        "DtdProcessing" | "ConformanceLevel" => crate::library::reader_static_exists(ty, name),
        "StringReader" | "StringWriter" => name == "Null",
        "CancellationToken" => name == "None",
        "XNamespace"
        | "SaveOptions"
        | "LoadOptions"
        | "XNode"
        | "XElement"
        | "XDocument"
        | "XContainer"
        | "XAttribute"
        | "XText"
        | "XCData"
        | "XComment"
        | "XProcessingInstruction"
        | "XDocumentType" => crate::library::xml_build_member_exists(ty, name, false),
        _ => false,
    }
}

/// How `policy check` sees a path below `context`: whether the interpreter holds it as a
/// context object (rather than a plain value), and which members and methods it has.
pub(crate) fn context_navigable(p: &[&str]) -> bool {
    p.is_empty() || is_object(p) || is_dictionary(p) || is_body(p)
}

/// Whether `context.<p>.<name>` resolves (see [`context_member`]).
pub(crate) fn context_member_known(p: &[&str], name: &str) -> bool {
    let mut q = p.to_vec();
    q.push(name);
    is_object(&q)
        || is_dictionary(&q)
        || is_body(&q)
        || scalar_members(p).contains(&name)
        || (is_dictionary(p) && matches!(name, "Count" | "Keys"))
}

/// Whether `context.<p>.<name>(…)` is a method [`context_call`] implements.
pub(crate) fn context_method_known(p: &[&str], name: &str) -> bool {
    if name == "GetType" {
        return true;
    }
    if is_dictionary(p) {
        return matches!(name, "GetValueOrDefault" | "ContainsKey" | "TryGetValue");
    }
    if is_body(p) {
        return matches!(name, "As" | "AsFormUrlEncodedContent");
    }
    matches!(
        (p, name),
        (
            ["Request", "Url"] | ["Request", "OriginalUrl"] | ["Api", "ServiceUrl"],
            "ToString"
        ) | ([], "Trace")
    )
}

/// The instance methods [`string_method`] implements; anything else goes to LINQ.
pub(crate) const STRING_METHODS: &[&str] = &[
    // `CharEnumerator` (crates/expr/src/library/enumerators.rs).
    "GetEnumerator",
    "Substring",
    "CopyTo",
    "GetEnumerator",
    "IndexOf",
    "LastIndexOf",
    "Contains",
    "StartsWith",
    "EndsWith",
    "Replace",
    "Split",
    "ToLower",
    "ToLowerInvariant",
    "ToUpper",
    "ToUpperInvariant",
    "Trim",
    "TrimStart",
    "TrimEnd",
    "Equals",
    "CompareTo",
    "ToString",
    "PadLeft",
    "PadRight",
    "Insert",
    "Remove",
    "ToCharArray",
    "GetHashCode",
    "GetType",
    "GetTypeCode",
    "IndexOfAny",
    "LastIndexOfAny",
    "Clone",
    "Normalize",
    "IsNormalized",
    "AsJwt",
    "AsBasic",
    "TryParseJwt",
    "TryParseBasic",
];

/// The LINQ operators [`linq`] implements (also what `policy check` accepts on sequences).
pub(crate) const LINQ: &[&str] = &[
    "Where",
    "Select",
    "Any",
    "All",
    "First",
    "FirstOrDefault",
    "Last",
    "LastOrDefault",
    "Single",
    "SingleOrDefault",
    "Count",
    "ToArray",
    "ToList",
    "Contains",
    "Skip",
    "Take",
    "OrderBy",
    "OrderByDescending",
    "ThenBy",
    "ThenByDescending",
    "Distinct",
    "Sum",
    "Max",
    "Min",
    "Reverse",
    "Concat",
    "ElementAt",
    "IndexOf",
    "Cast",
    "OfType",
    "SelectMany",
    "Average",
    // crates/expr/src/library/linq_sets.rs
    "SkipWhile",
    "TakeWhile",
    "ElementAtOrDefault",
    "DefaultIfEmpty",
    "LongCount",
    "Aggregate",
    "GroupBy",
    "ToLookup",
    "ToDictionary",
    "Union",
    "Intersect",
    "Except",
    "Zip",
    "SequenceEqual",
    // Also in crates/expr/src/library/linq.rs.
    "Append",
    "Prepend",
    "SkipLast",
    "TakeLast",
    "AsEnumerable",
    "ToHashSet",
    // crates/expr/src/library/linq_sets.rs
    "Join",
    "GroupJoin",
];
