//! `pickle_core::torch::Checkpoint` (feature `torch`) against checkpoints torch 2.15 wrote
//! (`tests/fixtures/torch/`, made by `tests/python/make_torch_fixtures.py`): every fixture
//! opens, and every tensor's name, dtype, shape, stride, storage offset, requires_grad and
//! contiguous bytes are what torch read from the same file (the JSON beside it). Globals torch's
//! weights-only policy refuses are refused by name and offset; cut or damaged files give typed
//! errors, never a panic.

use std::path::{Path, PathBuf};

use pickle_core::torch::{
    save_state_dict, Checkpoint, DType, Format, LoadOptions, TensorData, TorchError, WEIGHTS_ONLY_GLOBALS,
};
use pickle_core::ErrorKind;
use serde_json::Value as Json;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch")
}

/// Every fixture's record (`NAME.json` with `tensors`), with its path.
fn records() -> Vec<(PathBuf, Json)> {
    let mut out: Vec<(PathBuf, Json)> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| (p.clone(), serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()))
        .filter(|(_, j): &(PathBuf, Json)| j.get("tensors").is_some())
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 13, "fixtures missing: {}", out.len());
    out
}

fn checkpoint_path(record: &Json) -> PathBuf {
    fixtures().join(record["file"].as_str().unwrap())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn usizes(json: &Json) -> Vec<usize> {
    json.as_array().unwrap().iter().map(|n| n.as_u64().unwrap() as usize).collect()
}

/// The global torch refused, from its message: `GLOBAL __main__.TinyNet was not an allowed`.
fn refused_global(record: &Json) -> Option<String> {
    let message = record["weights_only_error"].as_str()?;
    let rest = message.split("GLOBAL ").nth(1)?;
    Some(rest.split_whitespace().next()?.to_owned())
}

/// Opens the fixture as torch did: weights-only, or, where torch refused a global, inert
/// after checking that the same global is refused here.
fn open_as_torch_did(record: &Json) -> Checkpoint {
    let path = checkpoint_path(record);
    match refused_global(record) {
        None => Checkpoint::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        Some(global) => {
            let error = Checkpoint::open(&path).err().expect("weights-only refuses it");
            let decoder = error.pickle_error().expect("a pickle error");
            assert!(matches!(decoder.kind(), ErrorKind::Forbidden(name) if *name == global), "{error}");
            assert!(error.offset().is_some());
            Checkpoint::open_with(&path, &LoadOptions::inert()).unwrap()
        }
    }
}

fn compare(checkpoint: &Checkpoint, record: &Json) {
    let file = record["file"].as_str().unwrap();
    assert_eq!(checkpoint.format().name(), record["format"].as_str().unwrap(), "{file}");
    let tensors = checkpoint.state_dict().unwrap_or_else(|e| panic!("{file}: {e}"));
    let expected = record["tensors"].as_array().unwrap();
    let names: Vec<&str> = tensors.iter().map(|(n, _)| n.as_str()).collect();
    let expected_names: Vec<&str> = expected.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, expected_names, "{file}");
    for ((name, tensor), torch) in tensors.iter().zip(expected) {
        let at = format!("{file}: {name}");
        assert_eq!(tensor.dtype().name(), torch["dtype"].as_str().unwrap(), "{at}");
        assert_eq!(tensor.shape(), usizes(&torch["shape"]), "{at}");
        assert_eq!(tensor.stride(), usizes(&torch["stride"]), "{at}");
        assert_eq!(tensor.storage_offset() as u64, torch["storage_offset"].as_u64().unwrap(), "{at}");
        assert_eq!(tensor.requires_grad(), torch["requires_grad"].as_bool().unwrap(), "{at}");
        assert_eq!(tensor.is_parameter(), torch["is_parameter"].as_bool().unwrap(), "{at}");
        assert_eq!(tensor.is_conj(), torch["is_conj"].as_bool().unwrap(), "{at}");
        assert_eq!(tensor.is_neg(), torch["is_neg"].as_bool().unwrap(), "{at}");
        assert_eq!(tensor.storage().nbytes(), torch["storage_nbytes"].as_u64().unwrap(), "{at}");
        let bytes = tensor.to_contiguous_bytes().unwrap_or_else(|e| panic!("{at}: {e}"));
        assert_eq!(hex(&bytes), torch["data_hex"].as_str().unwrap(), "{at}");
    }
}

#[test]
fn every_fixture_reads_as_torch_read_it_from_the_file() {
    for (_, record) in records() {
        compare(&open_as_torch_did(&record), &record);
    }
}

#[test]
fn every_fixture_reads_the_same_from_memory() {
    for (_, record) in records() {
        let bytes = std::fs::read(checkpoint_path(&record)).unwrap();
        let options =
            if refused_global(&record).is_some() { LoadOptions::inert() } else { LoadOptions::weights_only() };
        compare(&Checkpoint::from_bytes_with(bytes, &options).unwrap(), &record);
    }
}

#[test]
fn the_fixtures_cover_every_container_and_dtype() {
    let records = records();
    let formats: Vec<&str> = records.iter().map(|(_, r)| r["format"].as_str().unwrap()).collect();
    assert!(formats.contains(&"zip") && formats.contains(&"legacy") && formats.contains(&"tar"));
    let dtypes: std::collections::BTreeSet<&str> = records
        .iter()
        .flat_map(|(_, r)| r["tensors"].as_array().unwrap())
        .map(|t| t["dtype"].as_str().unwrap())
        .collect();
    for dtype in ["float64", "float32", "float16", "bfloat16", "int8", "int16", "int32", "int64", "uint8", "bool"] {
        assert!(dtypes.contains(dtype), "{dtype}");
    }
    for dtype in [
        "complex32",
        "complex64",
        "complex128",
        "uint16",
        "uint32",
        "uint64",
        "float8_e4m3fn",
        "float8_e5m2",
        "float8_e8m0fnu",
    ] {
        assert!(dtypes.contains(dtype), "{dtype}");
    }
}

#[test]
fn views_share_one_storage() {
    let checkpoint = Checkpoint::open(fixtures().join("zip_views_p4.pt")).unwrap();
    let tensors = checkpoint.state_dict().unwrap();
    let base = &tensors.iter().find(|(n, _)| n == "base").unwrap().1;
    let transposed = &tensors.iter().find(|(n, _)| n == "transposed").unwrap().1;
    assert_eq!(base.storage(), transposed.storage());
    assert!(base.is_contiguous() && !transposed.is_contiguous());
}

#[test]
fn big_endian_records_are_swapped() {
    let checkpoint = Checkpoint::open(fixtures().join("zip_big_endian.pt")).unwrap();
    assert!(checkpoint.is_big_endian());
    let little = Checkpoint::open(fixtures().join("zip_dtypes_p2.pt")).unwrap();
    let a = checkpoint.state_dict().unwrap();
    let b = little.state_dict().unwrap();
    assert!(a.len() >= 12);
    for ((name, big), (little_name, little)) in a.iter().zip(&b) {
        assert_eq!(name, little_name);
        assert_eq!(big.to_contiguous_bytes().unwrap(), little.to_contiguous_bytes().unwrap(), "{name}");
    }
}

#[test]
fn the_policy_is_torchs_allowlist() {
    let record: Json =
        serde_json::from_slice(&std::fs::read(fixtures().join("allowed_globals.json")).unwrap()).unwrap();
    let torch: Vec<&str> = record["globals"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
    let ours: Vec<String> = WEIGHTS_ONLY_GLOBALS.iter().map(|(m, n)| format!("{m}.{n}")).collect();
    assert_eq!(ours, torch);
}

#[test]
fn os_system_in_data_pkl_is_refused_by_name_and_offset() {
    let path = fixtures().join("hostile_os_system.pt");
    let error = Checkpoint::open(&path).err().unwrap();
    let decoder = error.pickle_error().expect("a pickle error");
    assert!(matches!(decoder.kind(), ErrorKind::Forbidden(name) if name == "posix.system"), "{error}");
    assert_eq!(decoder.offset(), Some(2));
    // The inert mode keeps it as data, and runs nothing.
    let inert = Checkpoint::open_with(&path, &LoadOptions::inert()).unwrap();
    assert_eq!(inert.root().as_object().unwrap().callable.as_global().unwrap().name, "system");
    assert!(inert.state_dict().unwrap().is_empty());
    // Blocked modules cannot be allowed.
    assert!(matches!(LoadOptions::weights_only().add_safe_global("posix", "system"), Err(TorchError::Blocked(_))));
}

#[test]
fn a_safe_global_can_be_added() {
    let path = fixtures().join("zip_full_model.pt");
    let options = LoadOptions::weights_only().add_safe_global("__main__", "TinyNet").unwrap();
    let error = Checkpoint::open_with(&path, &options).err().unwrap();
    // The next global of the module is refused in turn: torch.nn.modules.container.Sequential.
    let forbidden = match error.pickle_error().map(|e| e.kind()) {
        Some(ErrorKind::Forbidden(name)) => name.clone(),
        _ => panic!("{error}"),
    };
    assert_ne!(forbidden, "__main__.TinyNet");
}

// ----- damaged files -----

/// Opens and reads everything in `bytes`; any error is fine, a panic is not.
fn read_everything(bytes: Vec<u8>) {
    for options in [LoadOptions::weights_only(), LoadOptions::inert()] {
        if let Ok(checkpoint) = Checkpoint::from_bytes_with(bytes.clone(), &options) {
            if let Ok(tensors) = checkpoint.state_dict() {
                for (_, tensor) in tensors {
                    let _ = tensor.to_contiguous_bytes();
                }
            }
        }
    }
}

#[test]
fn cut_files_are_typed_errors() {
    for name in ["zip_views_p4.pt", "legacy_views_p4.pt", "zip_parameters.pt", "legacy_dtypes_p2.pt", "tar_views.pt"] {
        let bytes = std::fs::read(fixtures().join(name)).unwrap();
        for len in (0..bytes.len()).step_by(3) {
            read_everything(bytes[..len].to_vec());
        }
        // Cut inside the storages: opening may succeed (ZIP: the directory is at the end, so
        // no; legacy: yes), but reading never gives wrong data silently. (A TAR ends in
        // padding, which a cut of one byte does not reach past.)
        if name.starts_with("tar") {
            continue;
        }
        let cut = bytes[..bytes.len() - 1].to_vec();
        if let Ok(checkpoint) = Checkpoint::from_bytes(cut) {
            assert!(checkpoint.state_dict().is_err(), "{name}: a cut file read whole");
        }
    }
}

#[test]
fn changed_bytes_never_panic() {
    for name in ["zip_views_p4.pt", "legacy_views_p4.pt", "zip_other_folder.pt", "tar_views.pt"] {
        let bytes = std::fs::read(fixtures().join(name)).unwrap();
        // Every byte of the small files; of the TAR (mostly padding), one in five.
        for at in (0..bytes.len()).step_by(bytes.len().div_ceil(2500)) {
            for value in [0x00, 0xff, bytes[at] ^ 0x01] {
                let mut changed = bytes.clone();
                changed[at] = value;
                read_everything(changed);
            }
        }
    }
}

/// `bytes` with every `from` replaced by `to` (same length).
fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = bytes.to_vec();
    let mut found = 0;
    for i in 0..=out.len() - from.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            found += 1;
        }
    }
    assert!(found > 0);
    out
}

#[test]
fn a_missing_storage_record_is_named() {
    let bytes = std::fs::read(fixtures().join("zip_other_folder.pt")).unwrap();
    let renamed = replace(&bytes, b"archive/data/0", b"archive/data/9");
    let checkpoint = Checkpoint::from_bytes(renamed).unwrap();
    let error = checkpoint.state_dict().unwrap_err();
    assert!(matches!(&error, TorchError::MissingStorage { key } if key == "0"), "{error}");
}

#[test]
fn a_numel_larger_than_the_record_is_refused_before_reading() {
    // The storage id `('storage', torch.FloatStorage, '0', 'cpu', 6)` ends `K\x06t`.
    let bytes = std::fs::read(fixtures().join("zip_other_folder.pt")).unwrap();
    let lying = replace(&bytes, b"cpuq\x06K\x06t", b"cpuq\x06K\xfft");
    let checkpoint = Checkpoint::from_bytes(lying).unwrap();
    let error = checkpoint.state_dict().unwrap_err();
    assert!(matches!(error, TorchError::StorageTooSmall { needed: 1020, available: 24, .. }), "{error}");
}

#[test]
fn a_legacy_storage_longer_than_the_file_is_refused() {
    let bytes = std::fs::read(fixtures().join("legacy_dtypes_p2.pt")).unwrap();
    let checkpoint = Checkpoint::from_bytes(bytes.clone()).unwrap();
    let tensors = checkpoint.state_dict().unwrap();
    // The last storage's 8-byte element count sits just before its data.
    let last = tensors.iter().map(|(_, t)| t.storage().file_offset()).max().unwrap() as usize;
    let mut lying = bytes;
    lying[last - 8..last].copy_from_slice(&(u64::MAX / 4).to_le_bytes());
    let error = Checkpoint::from_bytes(lying).err();
    assert!(matches!(error, Some(TorchError::Corrupt { offset, .. }) if offset == last as u64 - 8), "{error:?}");
}

#[test]
fn other_files_are_not_checkpoints() {
    assert!(matches!(Checkpoint::from_bytes(b"hello".to_vec()), Err(TorchError::UnknownFormat(_))));
    let mut tar = vec![0u8; 1024];
    tar[257..262].copy_from_slice(b"ustar");
    assert!(matches!(Checkpoint::from_bytes(tar), Err(TorchError::Corrupt { .. })));
    // A pickle that is not torch's magic number.
    assert!(matches!(Checkpoint::from_bytes(b"\x80\x02K\x01.".to_vec()), Err(TorchError::UnknownFormat(_))));
    assert_eq!(Format::Legacy.name(), "legacy");
}

#[test]
fn a_persistent_id_that_is_not_a_storage_is_refused_where_it_is() {
    let bytes = std::fs::read(fixtures().join("zip_other_folder.pt")).unwrap();
    let renamed = replace(&bytes, b"storageq", b"storagXq");
    let error = Checkpoint::from_bytes(renamed.clone()).err().unwrap();
    let decoder = error.pickle_error().expect("a pickle error");
    assert!(decoder.to_string().contains("not a storage"), "{error}");
    // The BINPERSID after the id's tuple, in data.pkl.
    assert_eq!(decoder.offset(), Some(114), "{error}");
    assert_eq!(error.offset(), Some(Checkpoint::from_bytes(bytes).unwrap().pickle_start() + 114));
    // The inert mode keeps an id it does not know, as data.
    let inert = Checkpoint::from_bytes_with(renamed, &LoadOptions::inert()).unwrap();
    assert!(inert.state_dict().is_err());
}

#[test]
fn checkpoints_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Checkpoint>();
    send_sync::<pickle_core::torch::Tensor>();
}

#[test]
fn a_zip_record_claiming_more_than_the_file_is_refused() {
    let mut bytes = std::fs::read(fixtures().join("zip_other_folder.pt")).unwrap();
    // The central directory header of `archive/data/0`: its sizes at 20 and 24.
    let name = b"archive/data/0";
    let header = (0..bytes.len() - 46)
        .find(|&i| bytes[i..].starts_with(b"PK\x01\x02") && bytes[i + 46..].starts_with(name))
        .expect("the central directory entry");
    for field in [20, 24] {
        bytes[header + field..header + field + 4].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    }
    let error = Checkpoint::from_bytes(bytes).err();
    assert!(matches!(error, Some(TorchError::Corrupt { .. })), "{error:?}");
}

// ----- writing -----

/// Every tensor of the dtypes fixture, as `TensorData` of its contiguous bytes.
fn fixture_tensors() -> Vec<(String, DType, Vec<usize>, Vec<u8>)> {
    let checkpoint = Checkpoint::open(fixtures().join("zip_dtypes_p2.pt")).unwrap();
    let tensors = checkpoint.state_dict().unwrap();
    tensors.into_iter().map(|(n, t)| (n, t.dtype(), t.shape().to_vec(), t.to_contiguous_bytes().unwrap())).collect()
}

/// A 0-d tensor's one element.
const SCALAR: [u8; 8] = 7i64.to_le_bytes();

/// What the writer is given: the dtypes fixture's tensors, a 0-d and an empty one.
fn state_dict_of(tensors: &[(String, DType, Vec<usize>, Vec<u8>)]) -> Vec<(&str, TensorData<'_>)> {
    let mut data: Vec<(&str, TensorData<'_>)> = tensors
        .iter()
        .map(|(n, dtype, shape, bytes)| (n.as_str(), TensorData { dtype: *dtype, shape, data: bytes }))
        .collect();
    data.push(("scalar", TensorData { dtype: DType::Int64, shape: &[], data: &SCALAR }));
    data.push(("empty", TensorData { dtype: DType::Float32, shape: &[0, 3], data: &[] }));
    data
}

/// What `save_state_dict` writes for [`state_dict_of`] the dtypes fixture's tensors.
fn written_state_dict() -> Vec<u8> {
    let tensors = fixture_tensors();
    save_state_dict(std::io::Cursor::new(Vec::new()), &state_dict_of(&tensors)).unwrap().into_inner()
}

/// The writer's output is the committed `rust_written.pt`, which torch loaded with
/// `weights_only=True` (its reading is `rust_written.json`, compared like every fixture's).
/// `PICKLE_TORCH_REWRITE=1` writes the file anew, for the fixture script to record.
#[test]
fn the_writer_writes_the_file_torch_loaded() {
    let path = fixtures().join("rust_written.pt");
    let written = written_state_dict();
    if std::env::var_os("PICKLE_TORCH_REWRITE").is_some() {
        std::fs::write(&path, &written).unwrap();
    }
    assert!(std::fs::read(&path).unwrap() == written, "save_state_dict no longer writes rust_written.pt");
    let record: Json = serde_json::from_slice(&std::fs::read(fixtures().join("rust_written.json")).unwrap()).unwrap();
    assert!(record["weights_only_error"].is_null(), "torch refused it: {}", record["weights_only_error"]);
}

#[test]
fn a_written_state_dict_reads_back_aligned_as_torch_lays_it_out() {
    let tensors = fixture_tensors();
    let data = state_dict_of(&tensors);
    let written = written_state_dict();
    let checkpoint = Checkpoint::from_bytes(written).unwrap();
    let read = checkpoint.state_dict().unwrap();
    assert_eq!(read.len(), data.len());
    for ((name, tensor), (expected_name, expected)) in read.iter().zip(&data) {
        assert_eq!(name, expected_name);
        assert_eq!((tensor.dtype(), tensor.shape()), (expected.dtype, expected.shape), "{name}");
        assert!(tensor.is_contiguous() && !tensor.requires_grad(), "{name}");
        assert_eq!(tensor.to_contiguous_bytes().unwrap(), expected.data, "{name}");
        assert_eq!(tensor.storage().file_offset() % 64, 0, "{name}: record not aligned as torch aligns them");
    }
}

#[test]
fn the_decoders_limits_apply_to_the_checkpoints_pickle() {
    let path = fixtures().join("zip_training.pt");
    let limits = pickle_core::UnpicklerOptions { max_depth: 3, ..Default::default() };
    let error = Checkpoint::open_with(&path, &LoadOptions::weights_only().limits(limits)).err().unwrap();
    let decoder = error.pickle_error().expect("a pickle error");
    assert!(matches!(decoder.kind(), ErrorKind::LimitExceeded { .. }), "{error}");
}

#[test]
fn a_zip_with_two_records_of_one_name_is_refused() {
    // Which of the two a reader takes would decide the weights it sees.
    let error = Checkpoint::open(fixtures().join("hostile_duplicate_record.pt")).err();
    assert!(matches!(error, Some(TorchError::Corrupt { .. })), "{error:?}");
}
