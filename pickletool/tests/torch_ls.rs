//! `pickletool torch ls` against what torch read from the checkpoints of
//! `tests/fixtures/torch/` (the root package's, written by torch itself): names, dtypes,
//! shapes, strides, offsets, requires_grad and the SHA-256 of each tensor's contiguous bytes,
//! in text and JSON; a refused global is exit code 1 with its name. No Python is needed.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value as Json;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/torch").join(name)
}

fn pickletool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pickletool")).args(args).output().expect("pickletool runs")
}

fn record(name: &str) -> Json {
    serde_json::from_slice(&std::fs::read(fixture(&format!("{name}.json"))).unwrap()).unwrap()
}

#[test]
fn json_listing_is_what_torch_read() {
    for name in ["zip_training", "zip_views_p4", "legacy_dtypes_p2", "tar_views", "zip_big_endian"] {
        let path = fixture(&format!("{name}.pt"));
        let out = pickletool(&["torch", "ls", "--json", "--sha256", path.to_str().unwrap()]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let listed: Json = serde_json::from_slice(&out.stdout).unwrap();
        let torch = record(name);
        assert_eq!(listed["format"], torch["format"], "{name}");
        let (listed, torch) = (listed["tensors"].as_array().unwrap(), torch["tensors"].as_array().unwrap());
        assert_eq!(listed.len(), torch.len(), "{name}");
        for (ours, theirs) in listed.iter().zip(torch) {
            for field in ["name", "dtype", "shape", "stride", "storage_offset", "requires_grad", "sha256"] {
                assert_eq!(ours[field], theirs[field], "{name}: {} {field}", theirs["name"]);
            }
        }
    }
}

#[test]
fn text_listing_has_one_line_per_tensor() {
    let out = pickletool(&["torch", "ls", fixture("zip_views_p4.pt").to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().any(|l| l == "transposed\tfloat32\t[6, 4]\t[1, 6]\t0\tfalse"), "{text}");
    assert_eq!(text.lines().count(), record("zip_views_p4")["tensors"].as_array().unwrap().len());
}

#[test]
fn a_refused_global_is_named_and_inert_lists_the_model() {
    let path = fixture("zip_full_model.pt");
    let out = pickletool(&["torch", "ls", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("'__main__.TinyNet' is forbidden"));
    let out = pickletool(&["torch", "ls", "--inert", path.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("_modules.layer._modules.0._parameters.weight\tfloat32"), "{text}");
}

#[test]
fn convert_writes_every_tensor_contiguous_to_safetensors() {
    let dir = std::env::temp_dir().join(format!("pickletool-convert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["zip_views_p4", "legacy_training", "zip_dtypes_p2"] {
        let out = dir.join(format!("{name}.safetensors"));
        let path = fixture(&format!("{name}.pt"));
        let run = pickletool(&["torch", "convert", path.to_str().unwrap(), out.to_str().unwrap()]);
        let torch = record(name);
        let tensors = torch["tensors"].as_array().unwrap();
        let has_c32_or_c128 = tensors.iter().any(|t| t["dtype"] == "complex32" || t["dtype"] == "complex128");
        if has_c32_or_c128 {
            // safetensors has no such dtype: refused, and nothing written.
            assert_eq!(run.status.code(), Some(1), "{name}");
            assert!(String::from_utf8_lossy(&run.stderr).contains("no safetensors dtype"));
            assert!(!out.exists());
            continue;
        }
        assert!(run.status.success(), "{name}: {}", String::from_utf8_lossy(&run.stderr));
        let bytes = std::fs::read(&out).unwrap();
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(file.len(), tensors.len(), "{name}");
        for theirs in tensors {
            let view = file.tensor(theirs["name"].as_str().unwrap()).unwrap();
            let shape: Vec<usize> = serde_json::from_value(theirs["shape"].clone()).unwrap();
            assert_eq!(view.shape(), shape.as_slice(), "{name}: {}", theirs["name"]);
            let hex: String = view.data().iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex, theirs["data_hex"].as_str().unwrap(), "{name}: {}", theirs["name"]);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
