//! The EventArgs of Newtonsoft's container events and the order they are raised in; the
//! subscribing and the running of handlers are crates/expr/src/interp/events.rs's, the changes
//! that raise them crates/expr/src/jtree.rs's. Checked under Mono
//! (crates/expr/tests/oracle/expressions-json.txt).

use super::*;

/// The handlers of `event` on a token that declares it: every container has
/// `CollectionChanged`, `ListChanged` and `AddingNew` (JContainer's); a JObject also
/// `PropertyChanged` and `PropertyChanging`.
pub(crate) fn json_event_handlers<'t>(
    j: &'t JToken,
    event: &str,
) -> Option<&'t crate::interp::events::EventHandlers> {
    let declared = match event {
        "CollectionChanged" | "ListChanged" | "AddingNew" => j.is_container(),
        "PropertyChanged" | "PropertyChanging" => j.is_object(),
        _ => false,
    };
    declared.then(|| j.events())
}

/// `NotifyCollectionChangedEventArgs`.
fn collection_args(action: &str, new: Option<Value>, old: Option<Value>, i: i64, o: i64) -> Value {
    Value::record(vec![
        (
            "Action",
            enum_member("NotifyCollectionChangedAction", action).unwrap_or(Value::Null),
        ),
        ("NewItems", new.unwrap_or(Value::Null)),
        ("OldItems", old.unwrap_or(Value::Null)),
        ("NewStartingIndex", Value::Int(i)),
        ("OldStartingIndex", Value::Int(o)),
    ])
}

/// `ListChangedEventArgs(type, newIndex)`: its OldIndex is -1.
fn list_args(ty: &str, i: i64) -> Value {
    Value::record(vec![
        (
            "ListChangedType",
            enum_member("ListChangedType", ty).unwrap_or(Value::Null),
        ),
        ("NewIndex", Value::Int(i)),
        ("OldIndex", Value::Int(-1)),
        ("PropertyDescriptor", Value::Null),
    ])
}

/// The handler calls a change raises, in Newtonsoft 13's order: `ListChanged` before
/// `CollectionChanged` (JContainer's InsertItem/RemoveItemAt/SetItem/ClearItems), and for a
/// JObject's property `PropertyChanging`, the change, then `PropertyChanged`, `ListChanged`
/// (ItemChanged) and `CollectionChanged` (Replace, the property as both lists of items).
pub(crate) fn json_event_dispatch(
    raised: crate::jtree::Raised,
) -> Vec<crate::interp::events::Dispatch> {
    use crate::interp::events::Dispatch;
    use crate::jtree::Change;
    let source = raised.source;
    let sender = Value::Json(source.clone());
    let one = |t: &JToken| Some(Value::Array(vec![Value::Json(t.clone())]));
    let pair = |list: Value, coll: Value| {
        vec![
            Dispatch {
                owner: sender.clone(),
                sender: sender.clone(),
                event: "ListChanged",
                args: list,
                busy: Some(Box::new(source.clone())),
            },
            Dispatch {
                owner: sender.clone(),
                sender: sender.clone(),
                event: "CollectionChanged",
                args: coll,
                busy: Some(Box::new(source.clone())),
            },
        ]
    };
    let property = |event: &'static str, name: &str| Dispatch {
        owner: sender.clone(),
        sender: sender.clone(),
        event,
        args: Value::record(vec![("PropertyName", Value::str(name))]),
        busy: None,
    };
    match raised.change {
        Change::Added(i, item) => pair(
            list_args("ItemAdded", i as i64),
            collection_args("Add", one(&item), None, i as i64, -1),
        ),
        Change::Removed(i, item) => pair(
            list_args("ItemDeleted", i as i64),
            collection_args("Remove", None, one(&item), -1, i as i64),
        ),
        Change::Replaced(i, new, old) => pair(
            list_args("ItemChanged", i as i64),
            collection_args("Replace", one(&new), one(&old), i as i64, i as i64),
        ),
        Change::Reset => pair(
            list_args("Reset", -1),
            collection_args("Reset", None, None, -1, -1),
        ),
        Change::PropertyChanging(name) => vec![property("PropertyChanging", &name)],
        Change::PropertyAdded(name) => vec![property("PropertyChanged", &name)],
        Change::PropertyValueChanged(name, i, p) => {
            // The property is an IList of its value: both lists hold its value now.
            let items = || {
                Some(Value::Array(
                    p.property_value().map(Value::Json).into_iter().collect(),
                ))
            };
            let mut calls = vec![property("PropertyChanged", &name)];
            calls.extend(pair(
                list_args("ItemChanged", i as i64),
                collection_args("Replace", items(), items(), i as i64, i as i64),
            ));
            calls
        }
    }
}
