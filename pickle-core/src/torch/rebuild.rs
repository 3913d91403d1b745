//! From the reductions torch pickles a tensor as to a [`Tensor`], and the flattened state dict.
//!
//! `Tensor.__reduce_ex__` gives `torch._utils._rebuild_tensor_v2(storage, storage_offset, size,
//! stride, requires_grad, backward_hooks[, metadata])`, or `_rebuild_tensor_v3(..., dtype
//! [, metadata])` with an untyped storage for the newer dtypes; `nn.Parameter` wraps it in
//! `_rebuild_parameter(data, requires_grad, backward_hooks)` (`_with_state` with a fourth
//! item); a tensor with Python state or a subclass in `torch._tensor._rebuild_from_type_v2(func,
//! type, args, state)`. The decoder leaves all of them as inert [`Value::Object`]s; this reads
//! their arguments and never runs anything.

use std::collections::HashMap;
use std::sync::Arc;

use crate::{Object, Value};

use super::container::Record;
use super::dtype::{DType, StorageKind};
use super::error::{TorchError, TorchResult};
use super::source::Source;
use super::storage_id;
use super::tar::TarTensor;
use super::tensor::{Storage, Tensor};

/// What a tensor's storage is resolved against: the container's records and byte order, and
/// a TAR container's tensor table.
pub(crate) struct Storages {
    pub(crate) records: HashMap<String, Record>,
    pub(crate) big_endian: bool,
    pub(crate) source: Arc<Source>,
    pub(crate) tar_tensors: HashMap<String, TarTensor>,
}

/// torch's rebuild functions this reader cannot rebuild, refused by name.
const UNSUPPORTED: &[&str] = &[
    "_rebuild_qtensor",
    "_rebuild_sparse_tensor",
    "_rebuild_nested_tensor",
    "_rebuild_meta_tensor_no_storage",
    "_rebuild_wrapper_subclass",
    "_rebuild_device_tensor_from_numpy",
    "_rebuild_device_tensor_from_cpu_tensor",
    "_rebuild_xla_tensor",
    "_rebuild_mtia_tensor",
];

impl Storages {
    /// The tensor `value` is, `None` if it is not a tensor reduction.
    pub(crate) fn tensor(&self, value: &Value) -> TorchResult<Option<Tensor>> {
        match value.resolve() {
            Value::Object(object) => self.call(&object.callable, &object.args),
            Value::PersistentId(id) => self.tar_tensor(id),
            _ => Ok(None),
        }
    }

    /// The tensor a TAR container's pickle names by its key, `None` for any other id.
    fn tar_tensor(&self, id: &Value) -> TorchResult<Option<Tensor>> {
        let Some(entry) = storage_id::ascii(id).and_then(|key| self.tar_tensors.get(&key)) else {
            return Ok(None);
        };
        let record = self.records.get(&entry.storage);
        let record = record.ok_or_else(|| TorchError::MissingStorage { key: entry.storage.clone() })?;
        let tensor = Tensor {
            dtype: entry.dtype,
            shape: entry.shape.clone(),
            stride: entry.stride.clone(),
            storage_offset: entry.offset,
            requires_grad: false,
            is_parameter: false,
            conj: false,
            neg: false,
            storage: Storage {
                key: entry.storage.clone(),
                location: entry.location.clone(),
                file_offset: record.offset,
                nbytes: record.len,
                big_endian: false,
                source: self.source.clone(),
            },
        };
        tensor.check_view()?;
        Ok(Some(tensor))
    }

    /// The tensor `callable(*args)` builds, `None` if `callable` is no tensor rebuild.
    fn call(&self, callable: &Value, args: &Value) -> TorchResult<Option<Tensor>> {
        let Some(global) = callable.as_global() else {
            return Ok(None);
        };
        let args =
            args.as_tuple().ok_or_else(|| TorchError::malformed(format!("{}: args not a tuple", global.name)))?;
        let tensor = match (global.module.as_str(), global.name.as_str()) {
            ("torch._utils", "_rebuild_tensor_v2") => self.tensor_v2(args)?,
            ("torch._utils", "_rebuild_tensor_v3") => self.tensor_v3(args)?,
            ("torch._utils", "_rebuild_tensor") => self.tensor_v1(args)?,
            ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state") => self.parameter(args)?,
            ("torch._tensor", "_rebuild_from_type_v2") => self.subclass_v2(args)?,
            ("torch._utils", name) if UNSUPPORTED.contains(&name) => {
                return Err(TorchError::UnsupportedTensor(format!("torch._utils.{name}")))
            }
            _ => return Ok(None),
        };
        Ok(Some(tensor))
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
    /// backward_hooks, metadata=None)`: the dtype is the storage class's.
    fn tensor_v2(&self, args: &[Value]) -> TorchResult<Tensor> {
        let [storage, offset, size, stride, requires_grad, _hooks, rest @ ..] = args else {
            return Err(TorchError::malformed("_rebuild_tensor_v2 takes 6 or 7 arguments"));
        };
        let metadata = optional_last(rest, "_rebuild_tensor_v2")?;
        self.view(storage, None, offset, size, stride, Some(requires_grad), metadata)
    }

    /// `_rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad,
    /// backward_hooks, dtype, metadata=None)`: an untyped storage and the dtype given.
    fn tensor_v3(&self, args: &[Value]) -> TorchResult<Tensor> {
        let [storage, offset, size, stride, requires_grad, _hooks, dtype, rest @ ..] = args else {
            return Err(TorchError::malformed("_rebuild_tensor_v3 takes 7 or 8 arguments"));
        };
        let metadata = optional_last(rest, "_rebuild_tensor_v3")?;
        let dtype = dtype_global(dtype)?;
        self.view(storage, Some(dtype), offset, size, stride, Some(requires_grad), metadata)
    }

    /// `_rebuild_tensor(storage, storage_offset, size, stride)`, of old checkpoints.
    fn tensor_v1(&self, args: &[Value]) -> TorchResult<Tensor> {
        let [storage, offset, size, stride] = args else {
            return Err(TorchError::malformed("_rebuild_tensor takes 4 arguments"));
        };
        self.view(storage, None, offset, size, stride, None, None)
    }

    /// `_rebuild_parameter(data, requires_grad, backward_hooks)`, and `_with_state` with the
    /// Python state as a fourth argument (not kept).
    fn parameter(&self, args: &[Value]) -> TorchResult<Tensor> {
        let (data, requires_grad) = match args {
            [data, requires_grad, _hooks] | [data, requires_grad, _hooks, _] => (data, requires_grad),
            _ => return Err(TorchError::malformed("_rebuild_parameter takes 3 or 4 arguments")),
        };
        let mut tensor = self.tensor(data)?.ok_or_else(|| TorchError::malformed("a parameter of no tensor"))?;
        tensor.requires_grad = flag(requires_grad, "requires_grad")?;
        tensor.is_parameter = true;
        Ok(tensor)
    }

    /// `_rebuild_from_type_v2(func, new_type, args, state)`: `func(*args)` is the tensor.
    fn subclass_v2(&self, args: &[Value]) -> TorchResult<Tensor> {
        let [func, new_type, inner_args, _state] = args else {
            return Err(TorchError::malformed("_rebuild_from_type_v2 takes 4 arguments"));
        };
        let mut tensor =
            self.call(func, inner_args)?.ok_or_else(|| TorchError::malformed("_rebuild_from_type_v2 of no tensor"))?;
        if new_type.as_global().is_some_and(|g| g.module == "torch.nn.parameter" && g.name == "Parameter") {
            tensor.is_parameter = true;
        }
        Ok(tensor)
    }

    /// The view of `storage` the arguments describe, checked against the storage's record.
    #[allow(clippy::too_many_arguments)]
    fn view(
        &self,
        storage: &Value,
        dtype: Option<DType>,
        offset: &Value,
        size: &Value,
        stride: &Value,
        requires_grad: Option<&Value>,
        metadata: Option<&Value>,
    ) -> TorchResult<Tensor> {
        let Value::PersistentId(pid) = storage.resolve() else {
            return Err(TorchError::malformed("a tensor whose storage is not a persistent id"));
        };
        let id = storage_id::parse(pid).map_err(TorchError::malformed)?;
        let dtype = match (dtype, id.kind) {
            (Some(dtype), StorageKind::Untyped) => dtype,
            (None, StorageKind::Typed(dtype)) => dtype,
            (Some(dtype), StorageKind::Typed(_)) => dtype,
            (None, StorageKind::Untyped) => return Err(TorchError::malformed("an untyped storage with no dtype")),
        };
        let (conj, neg) = metadata_bits(metadata)?;
        let tensor = Tensor {
            dtype,
            shape: dims(size, "size")?,
            stride: dims(stride, "stride")?,
            storage_offset: count(offset, "storage_offset")?,
            requires_grad: requires_grad.map_or(Ok(false), |r| flag(r, "requires_grad"))?,
            is_parameter: false,
            conj,
            neg,
            storage: self.storage(&id)?,
        };
        tensor.check_view()?;
        Ok(tensor)
    }

    /// The storage of a persistent id: its record, which must hold the bytes it declares.
    fn storage(&self, id: &storage_id::StorageId) -> TorchResult<Storage> {
        let record = self.records.get(&id.key).ok_or_else(|| TorchError::MissingStorage { key: id.key.clone() })?;
        let needed = id.nbytes().unwrap_or(u64::MAX);
        if needed > record.len {
            return Err(TorchError::StorageTooSmall {
                key: id.key.clone(),
                needed,
                available: record.len,
                offset: record.offset,
            });
        }
        Ok(Storage {
            key: id.key.clone(),
            location: id.location.clone(),
            file_offset: record.offset,
            nbytes: needed,
            big_endian: self.big_endian,
            source: self.source.clone(),
        })
    }
}

/// The optional last argument: none, or one.
fn optional_last<'a>(rest: &'a [Value], function: &str) -> TorchResult<Option<&'a Value>> {
    match rest {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        _ => Err(TorchError::malformed(format!("{function}: too many arguments"))),
    }
}

/// A dtype global, `torch.uint16`.
fn dtype_global(value: &Value) -> TorchResult<DType> {
    let global = value.as_global().filter(|g| g.module == "torch");
    let name =
        global.map(|g| g.name.as_str()).ok_or_else(|| TorchError::malformed("a dtype that is no torch global"))?;
    DType::from_name(name).ok_or_else(|| TorchError::UnsupportedTensor(format!("dtype torch.{name}")))
}

/// The tensor metadata dict: `{'conj': True}` for a lazily conjugated view, `{'neg': True}`
/// for a lazily negated one (`t.conj().imag`). The stored elements are those before the
/// operation; [`Tensor::to_contiguous_bytes`] applies it.
fn metadata_bits(metadata: Option<&Value>) -> TorchResult<(bool, bool)> {
    let Some(metadata) = metadata.filter(|m| !m.is_none()) else {
        return Ok((false, false));
    };
    let pairs = metadata.as_dict().ok_or_else(|| TorchError::malformed("tensor metadata that is not a dict"))?;
    let (mut conj, mut neg) = (false, false);
    for (name, set) in pairs {
        let set = flag(set, "metadata bit")?;
        match name.as_str() {
            Some("conj") => conj = set,
            Some("neg") => neg = set,
            _ if !set => {}
            _ => return Err(TorchError::UnsupportedTensor(format!("a tensor with metadata {:?}", name.as_str()))),
        }
    }
    Ok((conj, neg))
}

/// A tuple (or `torch.Size`, or list) of ints >= 0.
fn dims(value: &Value, what: &str) -> TorchResult<Vec<usize>> {
    let items = match value.as_items() {
        Some(items) => items,
        // `torch.Size((2, 3))`: a reduction whose one argument is the tuple.
        None => value
            .as_object()
            .and_then(|o: &Object| o.args.as_tuple())
            .and_then(|args| args.first())
            .and_then(Value::as_items)
            .ok_or_else(|| TorchError::malformed(format!("a {what} that is not a tuple")))?,
    };
    items.iter().map(|d| count(d, what)).collect()
}

/// An int >= 0 that fits in `usize`.
fn count(value: &Value, what: &str) -> TorchResult<usize> {
    value
        .as_i64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| TorchError::malformed(format!("a {what} that is not an int >= 0")))
}

/// A bool.
fn flag(value: &Value, what: &str) -> TorchResult<bool> {
    value.as_bool().ok_or_else(|| TorchError::malformed(format!("a {what} that is not a bool")))
}

// ----- the flattened state dict -----

/// Every tensor under `root` with its dotted name: dicts (and `OrderedDict`s) by key, lists
/// and tuples by index, in order. A tensor reached twice (tied weights) is listed under each
/// name. Iterative, so deep nesting does not overflow the stack; a cycle is not followed.
pub(crate) fn flatten(storages: &Storages, root: &Value) -> TorchResult<Vec<(String, Tensor)>> {
    let mut out = Vec::new();
    let mut pending: Vec<(String, &Value)> = vec![(String::new(), root)];
    while let Some((name, value)) = pending.pop() {
        if let Some(tensor) = storages.tensor(value)? {
            out.push((name, tensor));
            continue;
        }
        let children = children(value);
        for (key, child) in children.into_iter().rev() {
            let child_name = if name.is_empty() { key } else { format!("{name}.{key}") };
            pending.push((child_name, child));
        }
    }
    Ok(out)
}

/// The named children of a container: dict pairs, `OrderedDict` items, list and tuple items,
/// and the attributes of any other object's state (a whole `nn.Module`'s `__dict__`, read in
/// the inert mode: `_modules.head._parameters.weight`).
fn children(value: &Value) -> Vec<(String, &Value)> {
    match value.resolve() {
        Value::Dict(items) => pairs(items),
        Value::List(items) | Value::Tuple(items) => items.iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect(),
        Value::Object(object) if is_ordered_dict(object) => pairs(&object.dict_items),
        Value::Object(object) => match object.state.as_ref().map(Value::resolve) {
            Some(Value::Dict(items)) => pairs(items),
            // `(dict, slots)`, as `object.__reduce_ex__` gives for a class with `__slots__`.
            Some(Value::Tuple(parts)) => parts.iter().filter_map(Value::as_dict).flat_map(pairs).collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Dict pairs named by key.
fn pairs(pairs: &[(Value, Value)]) -> Vec<(String, &Value)> {
    pairs.iter().map(|(k, v)| (key_name(k), v)).collect()
}

/// Whether the object is `collections.OrderedDict()` (or a `Counter`) with its items.
fn is_ordered_dict(object: &Object) -> bool {
    object.callable.as_global().is_some_and(|g| g.module == "collections" && matches!(g.name.as_str(), "OrderedDict"))
}

/// A key as Python's `str()` writes it, for the usual keys (str, int, bool, None).
fn key_name(key: &Value) -> String {
    if let Some(s) = key.as_str() {
        return s.to_owned();
    }
    if let Some(i) = key.as_bigint() {
        return i.to_string();
    }
    match key.resolve() {
        Value::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
        Value::None => "None".to_owned(),
        Value::Float(f) => crate::value::float_repr(*f),
        other => format!("<{}>", other.type_name()),
    }
}
