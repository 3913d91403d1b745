//! `num_complex::Complex<f64>` as Python `complex` (feature `num-complex`): CPython reduces a
//! complex to `(complex, (real, imag))`, inf, nan and signed zeros included.

use ::num_complex::Complex;

use super::class_args;
use crate::reconstruct::Stream;
use crate::{Call, GlobalName, Node, Reconstruct, Reduce, Reduction, Result};

impl Reduce for Complex<f64> {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        Ok(Call::new(GlobalName::static_type("builtins", "complex"), (self.re, self.im)).into())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// From `complex(real, imag)`, each a float or an int, and from the shorter calls Python
/// also accepts (`complex()`, `complex(real)`).
impl Reconstruct for Complex<f64> {
    fn reconstruct(node: Node<'_>) -> Result<Complex<f64>> {
        let mut args = class_args(&node, "builtins", "complex")?;
        if args.len() > 2 {
            return Err(node.error(format!("complex() takes at most 2 arguments ({} given)", args.len())));
        }
        let re = args.next().map_or(Ok(0.0), |n| n.get::<f64>())?;
        let im = args.next().map_or(Ok(0.0), |n| n.get::<f64>())?;
        Ok(Complex::new(re, im))
    }

    /// `complex(real, imag)` as CPython writes it; the shorter calls are the general loader's.
    fn stream<S: Stream>(stream: &mut S) -> Option<Complex<f64>> {
        stream.call(&[("builtins", "complex")], |stream, _| {
            stream.tuple(2, |stream| Some(Complex::new(stream.scalar()?, stream.scalar()?)))
        })
    }
}
