//! `pickletool show --json`: the loaded object as JSON, for tools and scripts.
//!
//! `show` prints Python syntax for people; scripts need a form that says everything the
//! pickle says, with one spelling for each thing, that any JSON reader takes. Every object
//! is a JSON object tagged with its `"type"`; nothing is left to a reader's guess (ints are
//! decimal strings, so no reader rounds them through a double; bytes are base64; a str with
//! lone surrogates gives its code points). An object the pickle reaches more than once
//! (memo GET, or the reference that closes a cycle) is written the first time with an
//! `"id"` and afterwards as `{"ref": id}`, so shared objects stay shared and cycles end.
//! The mapping is listed in `HELP` below, which is also the `--help` text.
//!
//! The graph is walked with an explicit stack, as pickle-core prints and drops a `Value`:
//! a pickle of a million nested lists must not overflow the native stack. serde_json writes
//! every string and number; the brackets and commas between them are written here.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use pickle_core::{Object, Value};

/// The mapping, as `pickletool show --help` prints it under `--json`.
pub const HELP: &str = "\
Print the object as one line of JSON, for tools. Every object is a JSON object with a \"type\":
  {\"type\": \"none\"}                      {\"type\": \"bool\", \"value\": true}
  {\"type\": \"int\", \"value\": \"-12\"}       a decimal string, whatever the size
  {\"type\": \"float\", \"value\": 1.5}       shortest round-trip digits, -0.0 as -0.0;
                                        \"nan\", \"inf\", \"-inf\" as strings
  {\"type\": \"str\", \"value\": \"text\"}      with lone surrogates, \"code_points\": [104, 55296]
                                        in place of \"value\"
  {\"type\": \"bytes\", \"base64\": \"AAE=\"}   bytearray the same; standard base64, padded
  {\"type\": \"list\", \"items\": [...]}      tuple, set, frozenset the same; sets in the order
                                        the pickle lists them
  {\"type\": \"dict\", \"items\": [[key, value], ...]}   keys of any type, in order
  {\"type\": \"global\", \"module\": \"collections\", \"name\": \"OrderedDict\"}
  {\"type\": \"object\", \"callable\": ..., \"args\": ..., \"state\": ... or null, \"list_items\": [...],
   \"dict_items\": [[key, value], ...], \"state_setter\": ... or null}
                                        an instance or call: callable(*args), then state and
                                        items; NEWOBJ is copyreg.__newobj__ with args
                                        (cls, *args), NEWOBJ_EX copyreg.__newobj_ex__ with
                                        (cls, args, kwargs)
  {\"type\": \"persistent_id\", \"value\": ...}
An object reached more than once carries \"id\": N (from 0, in the order written) the first
time and is {\"ref\": N} afterwards, which also closes cycles.";

/// Why a value cannot be written as JSON. A value the unpickler made never fails; a value
/// built by hand may hold a reference whose object is gone.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// A shared node whose value was never set.
    #[error("a shared object has no value (an unfinished cycle)")]
    UnsetShared,
    /// A cycle link whose object no longer exists, or lies outside the value.
    #[error("a cycle refers to an object outside the value")]
    DanglingCycle,
    /// serde_json refused a string or a number (it never does for what is written here).
    #[error("JSON output: {0}")]
    Write(#[from] serde_json::Error),
}

/// The JSON text of `value`, without a trailing newline.
pub fn to_json(value: &Value) -> Result<String, JsonError> {
    let counts = count_references(value)?;
    let mut writer = Writer { out: Vec::new(), counts, ids: HashMap::new() };
    writer.run(value)?;
    // Everything written is serde_json's UTF-8 or ASCII punctuation.
    Ok(String::from_utf8_lossy(&writer.out).into_owned())
}

/// The identity of the object a [`Value::Shared`] or [`Value::Cycle`] stands for: the
/// address of the value at the end of its chain of nodes, stable while the graph is alive.
/// `None` for values that are not references.
fn identity(v: &Value) -> Result<Option<usize>, JsonError> {
    match v {
        Value::Shared(_) => match v.resolve() {
            Value::Shared(_) => Err(JsonError::UnsetShared),
            Value::Cycle(c) => identity(&Value::Cycle(c.clone())),
            target => Ok(Some(target as *const Value as usize)),
        },
        Value::Cycle(c) => {
            let node = c.upgrade().ok_or(JsonError::DanglingCycle)?;
            let target = node.get().ok_or(JsonError::UnsetShared)?.resolve();
            Ok(Some(target as *const Value as usize))
        }
        _ => Ok(None),
    }
}

/// The values directly inside `v`, in the order they are written.
fn children(v: &Value) -> Vec<&Value> {
    match v {
        Value::Tuple(items) | Value::List(items) | Value::Set(items) | Value::FrozenSet(items) => {
            items.iter().collect()
        }
        Value::Dict(pairs) => pairs.iter().flat_map(|(k, v)| [k, v]).collect(),
        Value::PersistentId(id) => vec![&**id],
        Value::Object(o) => object_children(o),
        Value::Shared(_) => vec![v.resolve()],
        _ => Vec::new(),
    }
}

fn object_children(o: &Object) -> Vec<&Value> {
    let mut out = vec![&o.callable, &o.args];
    out.extend(&o.state);
    out.extend(&o.list_items);
    out.extend(o.dict_items.iter().flat_map(|(k, v)| [k, v]));
    out.extend(&o.state_setter);
    out
}

/// How many times each referenced object is reached: the ones reached twice or more get an
/// `"id"`. A node's value is walked the first time the node is met.
fn count_references(root: &Value) -> Result<HashMap<usize, usize>, JsonError> {
    let mut counts: HashMap<usize, usize> = HashMap::new();
    let mut walked = HashSet::new();
    let mut pending = vec![root];
    while let Some(v) = pending.pop() {
        if let Some(id) = identity(v)? {
            *counts.entry(id).or_default() += 1;
            if !matches!(v, Value::Shared(_)) || !walked.insert(id) {
                continue;
            }
        }
        pending.extend(children(v));
    }
    Ok(counts)
}

/// One step of writing: a value, fixed text, or the rest of a sequence.
enum Step<'a> {
    Value(&'a Value),
    /// A value written with this `"id"`.
    Tagged(&'a Value, Option<usize>),
    Text(&'static str),
    Items(std::slice::Iter<'a, Value>, bool),
    Pairs(std::slice::Iter<'a, (Value, Value)>, bool),
}

struct Writer {
    out: Vec<u8>,
    /// How often each object is reached ([`count_references`]).
    counts: HashMap<usize, usize>,
    /// The `"id"` given to each object written so far.
    ids: HashMap<usize, usize>,
}

impl Writer {
    fn run(&mut self, root: &Value) -> Result<(), JsonError> {
        let mut steps = vec![Step::Value(root)];
        while let Some(step) = steps.pop() {
            match step {
                Step::Value(v) => self.value(v, &mut steps)?,
                Step::Tagged(v, id) => self.tagged(v, id, &mut steps)?,
                Step::Text(t) => self.text(t),
                Step::Items(items, first) => self.next_item(items, first, &mut steps),
                Step::Pairs(pairs, first) => self.next_pair(pairs, first, &mut steps),
            }
        }
        Ok(())
    }

    fn text(&mut self, t: &str) {
        self.out.extend_from_slice(t.as_bytes());
    }

    fn json<T: serde::Serialize + ?Sized>(&mut self, x: &T) -> Result<(), JsonError> {
        Ok(serde_json::to_writer(&mut self.out, x)?)
    }

    /// A reference written before becomes `{"ref": id}`; anything else is written tagged,
    /// with a new id if it is reached again later.
    fn value<'a>(&mut self, v: &'a Value, steps: &mut Vec<Step<'a>>) -> Result<(), JsonError> {
        let Some(identity) = identity(v)? else {
            steps.push(Step::Tagged(v, None));
            return Ok(());
        };
        if let Some(&id) = self.ids.get(&identity) {
            self.text("{\"ref\":");
            self.json(&id)?;
            self.text("}");
            return Ok(());
        }
        // A cycle link is only ever met inside its object, which is written by then.
        let Value::Shared(_) = v else { return Err(JsonError::DanglingCycle) };
        if let Value::Cycle(_) = v.resolve() {
            return Err(JsonError::DanglingCycle);
        }
        let id = (self.counts.get(&identity).copied().unwrap_or(0) > 1).then(|| {
            let id = self.ids.len();
            self.ids.insert(identity, id);
            id
        });
        steps.push(Step::Tagged(v.resolve(), id));
        Ok(())
    }

    /// `{"type": ..., "id": ..., ...}` for a value that is not a reference.
    fn tagged<'a>(&mut self, v: &'a Value, id: Option<usize>, steps: &mut Vec<Step<'a>>) -> Result<(), JsonError> {
        self.text("{\"type\":");
        self.json(type_tag(v))?;
        if let Some(id) = id {
            self.text(",\"id\":");
            self.json(&id)?;
        }
        steps.push(Step::Text("}"));
        match v {
            Value::Object(o) => queue_object(o, steps),
            Value::Tuple(items) | Value::List(items) | Value::Set(items) | Value::FrozenSet(items) => {
                self.text(",\"items\":");
                steps.push(Step::Items(items.iter(), true));
            }
            Value::Dict(pairs) => {
                self.text(",\"items\":");
                steps.push(Step::Pairs(pairs.iter(), true));
            }
            Value::PersistentId(pid) => {
                self.text(",\"value\":");
                steps.push(Step::Value(pid));
            }
            atom => self.atom(atom)?,
        }
        Ok(())
    }

    /// The fields of a value with nothing inside it.
    fn atom(&mut self, v: &Value) -> Result<(), JsonError> {
        match v {
            Value::Bool(b) => self.field("value", b),
            Value::Int(i) => self.field("value", &i.to_string()),
            Value::BigInt(i) => self.field("value", &i.to_string()),
            Value::Float(x) if x.is_finite() => self.field("value", x),
            Value::Float(x) => self.field("value", &pickle_core::value::float_repr(*x)),
            Value::Str(s) => match s.as_str() {
                Some(text) => self.field("value", text),
                None => self.field("code_points", &s.code_points().collect::<Vec<u32>>()),
            },
            Value::Bytes(b) | Value::ByteArray(b) => {
                self.field("base64", &base64::engine::general_purpose::STANDARD.encode(b))
            }
            Value::Global(g) => {
                self.field("module", &g.module)?;
                self.field("name", &g.name)
            }
            _ => Ok(()),
        }
    }

    /// `,"name":value`.
    fn field<T: serde::Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Result<(), JsonError> {
        self.text(",");
        self.json(name)?;
        self.text(":");
        self.json(value)
    }

    /// `[` before the first item, `,` between items, `]` after the last.
    fn next_item<'a>(&mut self, mut items: std::slice::Iter<'a, Value>, first: bool, steps: &mut Vec<Step<'a>>) {
        match items.next() {
            Some(item) => {
                self.text(if first { "[" } else { "," });
                steps.push(Step::Items(items, false));
                steps.push(Step::Value(item));
            }
            None => self.text(if first { "[]" } else { "]" }),
        }
    }

    /// Pairs as a list of two-item lists: `[[k,v],[k,v]]`.
    fn next_pair<'a>(
        &mut self,
        mut pairs: std::slice::Iter<'a, (Value, Value)>,
        first: bool,
        steps: &mut Vec<Step<'a>>,
    ) {
        match pairs.next() {
            Some((k, v)) => {
                self.text(if first { "[[" } else { ",[" });
                steps.push(Step::Pairs(pairs, false));
                steps.push(Step::Text("]"));
                steps.push(Step::Value(v));
                steps.push(Step::Text(","));
                steps.push(Step::Value(k));
            }
            None => self.text(if first { "[]" } else { "]" }),
        }
    }
}

/// The `"type"` of a value that is not a reference.
fn type_tag(v: &Value) -> &'static str {
    match v {
        Value::None => "none",
        Value::PersistentId(_) => "persistent_id",
        other => other.type_name(),
    }
}

/// The fields of an object, queued in reverse so they are written in order.
fn queue_object<'a>(o: &'a Object, steps: &mut Vec<Step<'a>>) {
    let optional = |v: &'a Option<Value>| match v {
        Some(v) => Step::Value(v),
        None => Step::Text("null"),
    };
    steps.push(optional(&o.state_setter));
    steps.push(Step::Text(",\"state_setter\":"));
    steps.push(Step::Pairs(o.dict_items.iter(), true));
    steps.push(Step::Text(",\"dict_items\":"));
    steps.push(Step::Items(o.list_items.iter(), true));
    steps.push(Step::Text(",\"list_items\":"));
    steps.push(optional(&o.state));
    steps.push(Step::Text(",\"state\":"));
    steps.push(Step::Value(&o.args));
    steps.push(Step::Text(",\"args\":"));
    steps.push(Step::Value(&o.callable));
    steps.push(Step::Text(",\"callable\":"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use pickle_core::Shared;

    #[test]
    fn a_shared_list_is_written_once_and_a_cycle_ends() {
        let node = Shared::empty();
        node.set(Value::List(vec![Value::Int(1), Value::Cycle(node.downgrade())])).unwrap();
        let root = Value::List(vec![Value::Shared(node.clone()), Value::Shared(node)]);
        let item = r#"{"type":"list","id":0,"items":[{"type":"int","value":"1"},{"ref":0}]}"#;
        assert_eq!(to_json(&root).unwrap(), format!(r#"{{"type":"list","items":[{item},{{"ref":0}}]}}"#));
    }

    #[test]
    fn references_to_nothing_are_errors() {
        let unset = Value::List(vec![Value::Shared(Shared::empty())]);
        assert!(matches!(to_json(&unset), Err(JsonError::UnsetShared)));
        let gone = Shared::new(Value::None).downgrade();
        assert!(matches!(to_json(&Value::List(vec![Value::Cycle(gone)])), Err(JsonError::DanglingCycle)));
        let outside = Shared::new(Value::None);
        let link = Value::List(vec![Value::Cycle(outside.downgrade())]);
        assert!(matches!(to_json(&link), Err(JsonError::DanglingCycle)));
    }
}
