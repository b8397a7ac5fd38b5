//! The enums of APIM's allowed types with .NET's names and underlying values, in declaration
//! order (checked against Mono by crates/expr/tests/oracle/expressions.txt's `Enum.GetNames`
//! entries); read by crates/expr/src/library/enums.rs.

/// One enum: its names and .NET underlying values (in declaration order) and whether it is a
/// `[Flags]` enum (parsed and formatted as comma lists).
pub(super) struct EnumType {
    pub(super) name: &'static str,
    pub(super) flags: bool,
    pub(super) members: &'static [(&'static str, i64)],
}

pub(super) const ENUMS: &[EnumType] = &[
    EnumType {
        name: "Formatting",
        flags: false,
        members: &[("None", 0), ("Indented", 1)],
    },
    EnumType {
        name: "JTokenType",
        flags: false,
        members: &[
            ("None", 0),
            ("Object", 1),
            ("Array", 2),
            ("Constructor", 3),
            ("Property", 4),
            ("Comment", 5),
            ("Integer", 6),
            ("Float", 7),
            ("String", 8),
            ("Boolean", 9),
            ("Null", 10),
            ("Undefined", 11),
            ("Date", 12),
            ("Raw", 13),
            ("Bytes", 14),
            ("Guid", 15),
            ("Uri", 16),
            ("TimeSpan", 17),
        ],
    },
    EnumType {
        name: "DateTimeKind",
        flags: false,
        members: &[("Unspecified", 0), ("Utc", 1), ("Local", 2)],
    },
    EnumType {
        name: "MidpointRounding",
        flags: false,
        members: &[("ToEven", 0), ("AwayFromZero", 1)],
    },
    EnumType {
        name: "StringComparison",
        flags: false,
        members: &[
            ("CurrentCulture", 0),
            ("CurrentCultureIgnoreCase", 1),
            ("InvariantCulture", 2),
            ("InvariantCultureIgnoreCase", 3),
            ("Ordinal", 4),
            ("OrdinalIgnoreCase", 5),
        ],
    },
    EnumType {
        name: "StringSplitOptions",
        flags: true,
        members: &[("None", 0), ("RemoveEmptyEntries", 1)],
    },
    EnumType {
        name: "RegexOptions",
        flags: true,
        members: &[
            ("None", 0),
            ("IgnoreCase", 1),
            ("Multiline", 2),
            ("ExplicitCapture", 4),
            ("Compiled", 8),
            ("Singleline", 16),
            ("IgnorePatternWhitespace", 32),
            ("RightToLeft", 64),
            ("ECMAScript", 256),
            ("CultureInvariant", 512),
        ],
    },
    EnumType {
        name: "CipherMode",
        flags: false,
        members: &[("CBC", 1), ("ECB", 2), ("OFB", 3), ("CFB", 4), ("CTS", 5)],
    },
    EnumType {
        name: "PaddingMode",
        flags: false,
        members: &[
            ("None", 1),
            ("PKCS7", 2),
            ("Zeros", 3),
            ("ANSIX923", 4),
            ("ISO10126", 5),
        ],
    },
    EnumType {
        name: "X509ContentType",
        flags: false,
        members: &[
            ("Unknown", 0),
            ("Cert", 1),
            ("SerializedCert", 2),
            ("Pfx", 3),
            ("Pkcs12", 3),
            ("SerializedStore", 4),
            ("Pkcs7", 5),
            ("Authenticode", 6),
        ],
    },
    EnumType {
        name: "X509NameType",
        flags: false,
        members: &[
            ("SimpleName", 0),
            ("EmailName", 1),
            ("UpnName", 2),
            ("DnsName", 3),
            ("DnsFromAlternativeName", 4),
            ("UrlName", 5),
        ],
    },
    EnumType {
        name: "UriPartial",
        flags: false,
        members: &[("Scheme", 0), ("Authority", 1), ("Path", 2), ("Query", 3)],
    },
    EnumType {
        name: "XmlNodeType",
        flags: false,
        members: &[
            ("None", 0),
            ("Element", 1),
            ("Attribute", 2),
            ("Text", 3),
            ("CDATA", 4),
            ("EntityReference", 5),
            ("Entity", 6),
            ("ProcessingInstruction", 7),
            ("Comment", 8),
            ("Document", 9),
            ("DocumentType", 10),
            ("DocumentFragment", 11),
            ("Notation", 12),
            ("Whitespace", 13),
            ("SignificantWhitespace", 14),
            ("EndElement", 15),
            ("EndEntity", 16),
            ("XmlDeclaration", 17),
        ],
    },
    EnumType {
        name: "SaveOptions",
        flags: true,
        members: &[
            ("None", 0),
            ("DisableFormatting", 1),
            ("OmitDuplicateNamespaces", 2),
        ],
    },
    EnumType {
        name: "LoadOptions",
        flags: true,
        members: &[
            ("None", 0),
            ("PreserveWhitespace", 1),
            ("SetBaseUri", 2),
            ("SetLineInfo", 4),
        ],
    },
    EnumType {
        name: "DayOfWeek",
        flags: false,
        members: &[
            ("Sunday", 0),
            ("Monday", 1),
            ("Tuesday", 2),
            ("Wednesday", 3),
            ("Thursday", 4),
            ("Friday", 5),
            ("Saturday", 6),
        ],
    },
];
