//! The standard library: the BCL, Newtonsoft and `context` members APIM policies call. Only pure
//! computation lives here — no file, network or process access exists to be reached.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;

use super::ast::{BinOp, TypeRef, UnOp};
use super::budget::{self, SLOT};
use super::interp::{F, Flow, Interp, null_ref, rt};
use super::value::*;
use crate::datetime::{format_datetime, parse_datetime};
pub(crate) use crate::features::*;

mod access;
mod apim_auth;
mod arrays;
mod buffers;
mod builder_capacity;
mod builders;
mod chars;
mod collection_members;
mod comparers;
mod construct;
mod context;
mod conversions;
mod copy_to;
pub(crate) mod crypto;
mod custom_zones;
mod dateparse;
pub(crate) mod destinations;
mod dictionary;
mod dtoffset;
mod encoding;
mod encoding_more;
mod enum_table;
mod enumerators;
mod enums;
mod equality;
mod exceptions;
mod formatting;
mod guids;
mod json;
mod json_annotations;
mod json_aux;
mod json_casts;
mod json_events;
mod json_lenient;
mod json_reader;
mod json_special;
mod json_tokens;
mod json_tree;
pub(crate) mod json_write;
mod jsonpath;
mod linq;
mod linq_sets;
mod linq_types;
mod lookup;
mod math;
mod members;
mod methods;
mod misc_state;
mod misc_statics;
pub(crate) mod net;
mod numbers;
mod numeric_members;
mod numformat;
mod objects;
mod operators;
mod ordering;
mod random;
mod ranges;
mod regex_captures;
mod regexes;
mod set_comparer;
mod span_text;
pub(crate) mod spans;
mod statics;
mod string_new;
mod strings;
mod stringwriter;
mod tasks;
mod textencoding;
mod textio;
mod timespans;
mod timezones;
mod tuples;
mod utf7;
mod webutility;
mod xml;
mod xml_build;
mod xml_events;
mod xml_mutate;
mod xml_save;
mod xmlreader;
mod xmlwriter;
mod zone_serialization;
mod zonerules;

pub(crate) use access::*;
pub use apim_auth::{NotATime, claim_strings, jws_json_part, jwt_object, numeric_date};
use apim_auth::{as_basic, as_jwt};
pub(crate) use arrays::*;
pub(crate) use buffers::*;
pub(crate) use builder_capacity::*;
pub(crate) use builders::*;
pub(crate) use chars::*;
pub(crate) use collection_members::*;
pub use comparers::StringComparerKind;
pub(crate) use comparers::*;
pub(crate) use construct::*;
use context::*;
pub(crate) use conversions::*;
pub(crate) use copy_to::*;
use dateparse::*;
pub use dictionary::Entries;
pub(crate) use dictionary::*;
use dtoffset::*;
use encoding::*;
pub(crate) use encoding_more::FALLBACK_KIND;
use encoding_more::*;
pub(crate) use enumerators::*;
pub(crate) use enums::*;
pub(crate) use equality::*;
pub(crate) use exceptions::*;
pub(crate) use formatting::*;
use guids::*;
pub(crate) use json::*;
use json_annotations::*;
pub(crate) use json_aux::*;
pub(crate) use json_casts::*;
pub(crate) use json_events::*;
use json_reader::*;
pub(crate) use json_special::*;
pub(crate) use json_tokens::*;
pub(crate) use json_tree::*;
use jsonpath::*;
use linq::*;
pub(crate) use linq_sets::*;
pub(crate) use linq_types::*;
pub(crate) use lookup::*;
pub(crate) use math::*;
pub(crate) use members::*;
pub(crate) use methods::*;
pub(crate) use misc_state::*;
pub(crate) use misc_statics::*;
pub(crate) use numbers::*;
pub(crate) use numeric_members::numeric_static_exists;
use numformat::*;
pub(crate) use objects::*;
pub(crate) use operators::*;
pub(crate) use ordering::*;
pub(crate) use random::RANDOM_BYTES;
pub use random::SeededRandom;
use random::*;
use ranges::*;
use regex_captures::*;
use regexes::*;
pub(crate) use set_comparer::*;
pub(crate) use statics::*;
use string_new::*;
use strings::*;
pub(crate) use stringwriter::*;
pub(crate) use tasks::*;
pub use textencoding::TextEncoding;
use textencoding::*;
pub(crate) use textio::*;
use timespans::*;
use timezones::*;
pub(crate) use tuples::*;
use webutility::*;
pub(crate) use xml_build::*;
pub(crate) use xml_events::*;
pub(crate) use xml_mutate::*;
pub(crate) use xml_save::*;
pub(crate) use xmlreader::*;
pub(crate) use xmlwriter::*;
pub(crate) use zonerules::*;

type Args = Vec<(Option<String>, Value)>;

type J = serde_json::Value;
use crate::jtree::{JToken, Kind as JKind, TreeError};

pub(crate) fn cast_err(v: &Value, to: &str, at: usize) -> Flow {
    rt(
        "InvalidCastException",
        format!(
            "Unable to cast object of type '{}' to type '{to}'.",
            v.type_name()
        ),
        at,
    )
}

fn no_member(v: &Value, name: &str, at: usize) -> Flow {
    no_definition(v.type_name(), name, at)
}

/// The compiler's refusal of a call to `name` with `n` arguments.
pub(crate) fn no_overload(name: &str, n: usize, at: usize) -> Flow {
    rt(
        "CompilationError",
        format!("No overload for method '{name}' takes {n} arguments"),
        at,
    )
}

/// What the binder says of a member `name` that the type `ty` does not have.
fn no_definition(ty: &str, name: &str, at: usize) -> Flow {
    rt(
        "RuntimeBinderException",
        format!("'{ty}' does not contain a definition for '{name}'"),
        at,
    )
}

fn format_err(at: usize) -> Flow {
    rt(
        "FormatException",
        "Input string was not in a correct format.",
        at,
    )
}

fn arg_range(msg: &str, at: usize) -> Flow {
    rt("ArgumentOutOfRangeException", msg.to_string(), at)
}

fn arg(args: &Args, i: usize, at: usize) -> F<&Value> {
    args.get(i).map(|(_, v)| v).ok_or_else(|| {
        rt(
            "ArgumentException",
            format!("missing argument {}", i + 1),
            at,
        )
    })
}

fn named<'a>(args: &'a Args, name: &str, pos: usize) -> Option<&'a Value> {
    args.iter()
        .find(|(n, _)| n.as_deref() == Some(name))
        .map(|(_, v)| v)
        .or_else(|| args.get(pos).filter(|(n, _)| n.is_none()).map(|(_, v)| v))
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(v)
    }
}
