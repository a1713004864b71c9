//! MNIST: the IDX file reader ([`idx`]), drawn-digit preprocessing done the way MNIST itself
//! was made ([`preprocess`](mod@preprocess)), and the training-time augmentation that makes
//! the models recognise mouse-drawn digits ([`augment`](mod@augment)).

pub mod augment;
pub mod idx;
pub mod preprocess;

pub use augment::{augment, Augment};
pub use idx::{
    dataset, load, parse_images, parse_labels, read_images, read_labels, Dataset, Images,
};
pub use preprocess::{normalise, prepare_input, preprocess};

/// Side of an MNIST image.
pub const SIDE: usize = 28;
/// Pixels of an MNIST image.
pub const PIXELS: usize = SIDE * SIDE;
