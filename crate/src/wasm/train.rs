//! Training in the page: MNIST decoded in wasm (`datasetLoad`), and trainers (`trainerNew`,
//! `trainerRun`, the data-parallel pair `trainerGradients` / `trainerApply`, `trainerEvaluate`,
//! `trainerExplain`, `trainerWeights`, `trainerSave`). The JS classes `Dataset` and `Trainer`
//! of `api.js` wrap the handles. Results are built after the tables are released.

use std::cell::RefCell;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::args::{ArgError, Name, TrainerOptions, Whole};
use super::handles::Table;
use super::js::{self, arg};
use super::{run, R};
use crate::mnist::{self, Augment, Dataset, PIXELS};
use crate::nn::spec::Spec;
use crate::nn::step::{self, StepExplain};
use crate::nn::trainer::{
    self, Batch, Init, OptimizerKind, Schedule, Settings, ShardGrads, Status, Trainer,
};
use crate::nn::{Model, Preset};

/// Largest IDX file `datasetLoad` reads, compressed or not (MNIST's training images are
/// 9.9 MB gzipped, 47 MB raw).
pub const MAX_IDX_FILE: usize = 64 << 20;
/// Most steps one `trainerRun` takes.
pub const MAX_STEPS: usize = 10_000;
/// Most workers (shards) a data-parallel step is split into.
pub const MAX_SHARDS: usize = 64;

struct Training {
    trainer: Trainer,
    /// The batch drawn by `trainerGradients` and not yet applied.
    pending: Option<Batch>,
}

thread_local! {
    static DATASETS: RefCell<Table<Dataset>> = RefCell::new(Table::new("Dataset"));
    static TRAINERS: RefCell<Table<Training>> = RefCell::new(Table::new("Trainer"));
}

pub(crate) fn live() -> (usize, usize) {
    (
        DATASETS.with(|d| d.borrow().len()),
        TRAINERS.with(|t| t.borrow().len()),
    )
}

fn to_js<T: Serialize>(v: &T) -> R<JsValue> {
    Ok(super::js::to_js(v, "result")?)
}

fn with_dataset<T>(name: &str, d: &JsValue, f: impl FnOnce(&Dataset) -> R<T>) -> R<T> {
    DATASETS.with(|t| {
        let t = t.borrow();
        f(t.get(name, d)?)
    })
}

/// Runs `f` with the trainer behind `t` and the dataset behind `d` (tables of different
/// kinds, so both can be borrowed at once).
fn with_both<T>(t: &JsValue, d: &JsValue, f: impl FnOnce(&mut Training, &Dataset) -> R<T>) -> R<T> {
    TRAINERS.with(|tt| {
        let mut tt = tt.borrow_mut();
        let tr = tt.get_mut("this", t)?;
        with_dataset("dataset", d, |ds| f(tr, ds))
    })
}

fn with_trainer<T>(t: &JsValue, f: impl FnOnce(&mut Training) -> R<T>) -> R<T> {
    TRAINERS.with(|tt| {
        let mut tt = tt.borrow_mut();
        f(tt.get_mut("this", t)?)
    })
}

/// Decodes MNIST's IDX files (`Uint8Array`s, gzip-compressed or raw): images `[N, 28, 28]`
/// and their labels. Returns a handle.
#[wasm_bindgen(js_name = datasetLoad)]
pub fn dataset_load(images: JsValue, labels: JsValue) -> Result<f64, JsError> {
    run(|| {
        let img = js::typed::<u8>("images", &images, js::at_most("images", MAX_IDX_FILE))?;
        let lab = js::typed::<u8>("labels", &labels, js::at_most("labels", MAX_IDX_FILE))?;
        let images = mnist::idx::parse_images("images", &img)?;
        drop(img);
        let labels = mnist::idx::parse_labels("labels", &lab)?;
        let data = mnist::idx::dataset(images, labels, "dataset")?;
        if data.is_empty() {
            return Err(ArgError::new("images", "0 images", "must hold at least one image").into());
        }
        DATASETS.with(|t| Ok(t.borrow_mut().insert(data)?))
    })
}

#[wasm_bindgen(js_name = datasetFree)]
pub fn dataset_free(d: JsValue) -> Result<(), JsError> {
    run(|| DATASETS.with(|t| Ok(t.borrow_mut().free("this", &d)?)))
}

/// Number of images.
#[wasm_bindgen(js_name = datasetLen)]
pub fn dataset_len(d: JsValue) -> Result<f64, JsError> {
    run(|| with_dataset("this", &d, |ds| Ok(ds.len() as f64)))
}

fn sample_index(i: &JsValue, len: usize) -> Result<usize, ArgError> {
    let Whole(i) = arg("index", "Dataset", i)?;
    if i >= len {
        return Err(ArgError::new(
            "index",
            i,
            format!("must be below the dataset's {len} images"),
        ));
    }
    Ok(i)
}

/// Image `i` as 784 values in 0..1 (a copy).
#[wasm_bindgen(js_name = datasetImage)]
pub fn dataset_image(d: JsValue, i: JsValue) -> Result<Vec<f32>, JsError> {
    run(|| {
        with_dataset("this", &d, |ds| {
            let i = sample_index(&i, ds.len())?;
            let mut px = vec![0.0f32; PIXELS];
            ds.image_f32(i, &mut px);
            Ok(px)
        })
    })
}

/// Label of image `i` (0..9).
#[wasm_bindgen(js_name = datasetLabel)]
pub fn dataset_label(d: JsValue, i: JsValue) -> Result<f64, JsError> {
    run(|| {
        with_dataset("this", &d, |ds| {
            let i = sample_index(&i, ds.len())?;
            Ok(ds.labels[i] as f64)
        })
    })
}

/// The settings of `opts` (defaults: the page's for the model).
pub(super) fn settings(opts: TrainerOptions) -> R<Settings> {
    let mut s = match &opts.model {
        serde_json::Value::String(name) if name.chars().count() > 40 => {
            return Err(ArgError::new(
                "model",
                format!("a string of {} characters", name.chars().count()),
                "must be \"slp\", \"mlp\", \"cnn\" or a spec like { input: [1, 28, 28], layers: [...] }",
            )
            .into())
        }
        serde_json::Value::String(name) => Settings::for_page(Preset::from_name(name)?),
        serde_json::Value::Object(_) => {
            let spec = Spec::from_json(&opts.model.to_string())?;
            // A model of the spec must be one the trainer can teach: built here to say why not.
            crate::nn::trainer::check_trainable(&Model::new(&spec)?)?;
            Settings {
                spec,
                ..Settings::for_page(Preset::Cnn)
            }
        }
        other => {
            return Err(ArgError::new(
                "model",
                other.to_string(),
                "must be \"slp\", \"mlp\", \"cnn\" or a spec like { input: [1, 28, 28], layers: [...] }",
            )
            .into())
        }
    };
    if let Some(Name(o)) = opts.optimizer {
        s.optimizer = OptimizerKind::from_name(&o)?;
    }
    if let Some(lr) = opts.lr {
        if !lr.0.is_finite() || lr.0 <= 0.0 || lr.0 > trainer::MAX_LR as f64 {
            return Err(ArgError::new(
                "lr",
                super::args::Seen::Num(lr.0),
                format!("must be a number above 0 and at most {}", trainer::MAX_LR),
            )
            .into());
        }
        s.lr = lr.0 as f32;
    }
    if let Some(Whole(b)) = opts.batch {
        s.batch = b;
    }
    if let Some(a) = opts.augment {
        s.augment = a.0.then(|| Augment {
            prob: 0.8,
            ..Augment::default()
        });
    }
    let seed = opts.seed.map_or(1, |w| w.0 as u64);
    s.seed = seed;
    if let Some(Name(i)) = opts.init {
        s.init = match i.as_str() {
            "zeros" => Init::Zeros,
            "seeded" => Init::seeded(seed),
            _ => {
                return Err(ArgError::new(
                    "init",
                    format!("{i:?}"),
                    "must be \"zeros\" or \"seeded\"",
                )
                .into())
            }
        };
    } else if let Init::Seeded { scale, .. } = s.init {
        s.init = Init::Seeded { seed, scale };
    }
    s.schedule = Schedule::Constant;
    s.check()?;
    Ok(s)
}

/// The trainer settings a JS options object asks for (`new Trainer` and `Trainer.check`), and
/// whether it asks for the run's history.
fn settings_of(opts: &JsValue) -> R<(Settings, bool)> {
    let o = js::options::<TrainerOptions>("settings", "Trainer", "{ model: \"slp\" }", opts)?
        .ok_or_else(|| {
            ArgError::new(
                "settings",
                "undefined",
                "must be an object like { model: \"slp\", lr: 0.1 }",
            )
        })?;
    let history = o.history.as_ref().is_some_and(|f| f.0);
    Ok((settings(o)?, history))
}

/// A trainer for `settings` over `dataset`'s images (the dataset is not kept: every call that
/// trains takes it again, and it must have the same number of images).
#[wasm_bindgen(js_name = trainerNew)]
pub fn trainer_new(dataset: JsValue, opts: JsValue) -> Result<f64, JsError> {
    run(|| {
        let n = with_dataset("dataset", &dataset, |d| Ok(d.len()))?;
        let (s, history) = settings_of(&opts)?;
        let mut t = Trainer::new(s, n)?;
        if history {
            t.keep_history();
        }
        TRAINERS.with(|tt| {
            Ok(tt.borrow_mut().insert(Training {
                trainer: t,
                pending: None,
            })?)
        })
    })
}

#[wasm_bindgen(js_name = trainerFree)]
pub fn trainer_free(t: JsValue) -> Result<(), JsError> {
    run(|| TRAINERS.with(|tt| Ok(tt.borrow_mut().free("this", &t)?)))
}

/// Where training stands, as JS reads it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusJs {
    model: &'static str,
    optimizer: &'static str,
    batch: usize,
    epoch: usize,
    done: usize,
    per_epoch: usize,
    samples: f64,
    steps: f64,
    lr: f32,
    batch_loss: f32,
    batch_accuracy: f32,
    epoch_loss: f32,
    epoch_accuracy: f32,
}

fn status_js(t: &Trainer, s: Status) -> StatusJs {
    let set = t.settings();
    StatusJs {
        model: Preset::of_spec(&set.spec).map_or("custom", Preset::name),
        optimizer: set.optimizer.name(),
        batch: set.batch,
        epoch: s.epoch,
        done: s.done,
        per_epoch: s.per_epoch,
        samples: s.samples as f64,
        steps: s.steps as f64,
        lr: s.lr,
        batch_loss: s.batch_loss,
        batch_accuracy: s.batch_accuracy,
        epoch_loss: s.epoch_loss,
        epoch_accuracy: s.epoch_accuracy,
    }
}

fn no_pending(tr: &Training) -> Result<(), ArgError> {
    if tr.pending.is_some() {
        return Err(ArgError::new(
            "this",
            "a Trainer with gradients out",
            "apply the last trainerGradients() with apply() first",
        ));
    }
    Ok(())
}

/// Trains `steps` batches on one worker; returns the status.
#[wasm_bindgen(js_name = trainerRun)]
pub fn trainer_run(t: JsValue, dataset: JsValue, steps: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let Whole(steps) = arg("steps", "Trainer.run", &steps)?;
        if steps == 0 || steps > MAX_STEPS {
            return Err(ArgError::new("steps", steps, format!("must be 1..{MAX_STEPS}")).into());
        }
        let s = with_both(&t, &dataset, |tr, d| {
            no_pending(tr)?;
            let mut s = tr.trainer.status();
            for _ in 0..steps {
                s = tr.trainer.step(d)?;
            }
            Ok(status_js(&tr.trainer, s))
        })?;
        to_js(&s)
    })
}

/// The status without training.
#[wasm_bindgen(js_name = trainerStatus)]
pub fn trainer_status(t: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let s = with_trainer(&t, |tr| Ok(status_js(&tr.trainer, tr.trainer.status())))?;
        to_js(&s)
    })
}

/// Data-parallel step, first half: draws the next batch and returns the gradients of shard
/// `shard` of `shards` as one flat `Float32Array` (`[count, lossSum, correct, …]`), which every
/// worker then passes, all shards in order, to `trainerApply`.
#[wasm_bindgen(js_name = trainerGradients)]
pub fn trainer_gradients(
    t: JsValue,
    dataset: JsValue,
    shard: JsValue,
    shards: JsValue,
) -> Result<Vec<f32>, JsError> {
    run(|| {
        let Whole(k) = arg("shard", "Trainer.gradients", &shard)?;
        let Whole(n) = arg("shards", "Trainer.gradients", &shards)?;
        if n == 0 || n > MAX_SHARDS {
            return Err(ArgError::new("shards", n, format!("must be 1..{MAX_SHARDS}")).into());
        }
        if k >= n {
            return Err(ArgError::new("shard", k, format!("must be below shards = {n}")).into());
        }
        with_both(&t, &dataset, |tr, d| {
            no_pending(tr)?;
            if tr.trainer.settings().batch < n {
                return Err(ArgError::new(
                    "shards",
                    n,
                    format!(
                        "must be at most the batch size {} (each shard needs a sample)",
                        tr.trainer.settings().batch
                    ),
                )
                .into());
            }
            let b = tr.trainer.next_batch();
            let epoch = b.epoch;
            let idx = b.shard(k, n).to_vec();
            tr.pending = Some(b);
            if idx.is_empty() {
                // The short last batch of an epoch can leave a shard empty: it adds nothing.
                return Ok(ShardGrads::empty(&tr.trainer.model).to_flat());
            }
            match tr.trainer.shard_gradients(d, epoch, &idx) {
                Ok(g) => Ok(g.to_flat()),
                Err(e) => {
                    tr.pending = None;
                    Err(e.into())
                }
            }
        })
    })
}

/// Data-parallel step, second half: applies the mean of every shard's gradients (an array of
/// the `Float32Array`s `trainerGradients` returned, in shard order); returns the status.
#[wasm_bindgen(js_name = trainerApply)]
pub fn trainer_apply(t: JsValue, grads: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let (want, nparams) = with_trainer(&t, |tr| {
            if tr.pending.is_none() {
                return Err(ArgError::new(
                    "this",
                    "a Trainer with no gradients out",
                    "call gradients() for this step first",
                )
                .into());
            }
            Ok((
                3 + tr.trainer.model.num_params(),
                tr.trainer.model.num_params(),
            ))
        })?;
        let list = js::list("grads", &grads, MAX_SHARDS)?;
        if list.is_empty() {
            return Err(ArgError::new(
                "grads",
                "an empty array",
                "must hold one Float32Array per shard",
            )
            .into());
        }
        let mut flats = Vec::with_capacity(list.len());
        for (i, g) in list.iter().enumerate() {
            let name = format!("grads[{i}]");
            let v = js::typed::<f32>(&name, g, |n| {
                if n == want {
                    Ok(())
                } else {
                    Err(ArgError::new(
                        name.clone(),
                        format!("a Float32Array of {n} elements"),
                        format!("must hold {want} values (3 counts and {nparams} gradients)"),
                    ))
                }
            })?;
            flats.push(v);
        }
        let s = with_trainer(&t, |tr| {
            let shards: Vec<ShardGrads> = flats
                .iter()
                .map(|f| ShardGrads::from_flat(&tr.trainer.model, f))
                .collect::<crate::Result<_>>()?;
            let total: usize = shards.iter().map(|s| s.count).sum();
            let want = tr.pending.as_ref().map_or(0, |b| b.indices.len());
            if total != want {
                return Err(ArgError::new(
                    "grads",
                    format!("{total} samples"),
                    format!("the shards must cover this step's batch of {want}"),
                )
                .into());
            }
            let s = tr.trainer.apply(&shards)?;
            tr.pending = None;
            Ok(status_js(&tr.trainer, s))
        })?;
        to_js(&s)
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Evaluation {
    loss: f32,
    accuracy: f32,
    count: usize,
}

/// Mean loss and accuracy on the first `count` images of `dataset` (all when it holds fewer).
#[wasm_bindgen(js_name = trainerEvaluate)]
pub fn trainer_evaluate(t: JsValue, dataset: JsValue, count: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let Whole(n) = arg("count", "Trainer.evaluate", &count)?;
        if n == 0 {
            return Err(ArgError::new("count", 0, "must be at least 1").into());
        }
        let e = TRAINERS.with(|tt| {
            let tt = tt.borrow();
            let tr = tt.get("this", &t)?;
            with_dataset("dataset", &dataset, |d| {
                let (loss, accuracy) = trainer::evaluate(&tr.trainer.model, d, n)?;
                Ok(Evaluation {
                    loss,
                    accuracy,
                    count: n.min(d.len()),
                })
            })
        })?;
        to_js(&e)
    })
}

/// One step slowed down for image `index` of `dataset` (see `crate::nn::step`): the
/// probabilities, dout, a dense layer's dW = doutᵀ·x before and after, a conv's im2col
/// dW and its adjoint dX beside the model's own gradients. Changes nothing.
#[wasm_bindgen(js_name = trainerExplain)]
pub fn trainer_explain(
    t: JsValue,
    dataset: JsValue,
    index: JsValue,
    at: JsValue,
) -> Result<JsValue, JsError> {
    run(|| {
        let at = moment_arg(&at, "Trainer.explain")?;
        let e: StepExplain = TRAINERS.with(|tt| {
            let tt = tt.borrow();
            let tr = tt.get("this", &t)?;
            with_dataset("dataset", &dataset, |d| {
                let i = sample_index(&index, d.len())?;
                let mut px = vec![0.0f32; PIXELS];
                d.image_f32(i, &mut px);
                let s = tr.trainer.settings();
                let model = tr.trainer.model_at(at)?;
                Ok(step::explain(&model, &px, d.labels[i], s.lr)?)
            })
        })?;
        to_js(&e)
    })
}

/// The image the model gets most wrong among the first `count` of a dataset.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Hardest {
    /// Its index in the dataset.
    index: usize,
    /// Its cross-entropy, −ln p(label).
    loss: f32,
    label: u8,
    /// The class the model answers.
    predicted: usize,
    /// How many images were looked at, and how many of them the model gets wrong.
    count: usize,
    wrong: usize,
}

/// Highest-loss image of the first `n` of `d` under `model` (the first one on a tie).
fn hardest(model: &crate::nn::Model, d: &Dataset, n: usize) -> crate::Result<Hardest> {
    let n = n.min(d.len());
    let mut best = Hardest {
        index: 0,
        loss: f32::NEG_INFINITY,
        label: 0,
        predicted: 0,
        count: n,
        wrong: 0,
    };
    let mut img = vec![0.0f32; PIXELS];
    for start in (0..n).step_by(250) {
        let end = (start + 250).min(n);
        let mut x = vec![0.0f32; (end - start) * PIXELS];
        for i in start..end {
            d.image_f32(i, &mut img);
            x[(i - start) * PIXELS..(i - start + 1) * PIXELS].copy_from_slice(&img);
        }
        let t = model.forward_batch(crate::tensor::Tensor::new(x, &[end - start, 1, 28, 28])?)?;
        let p = t.acts.last().expect("a model has layers");
        for (k, row) in p.data().chunks_exact(10).enumerate() {
            let i = start + k;
            let label = d.labels[i];
            let predicted = crate::nn::argmax(row);
            if predicted != label as usize {
                best.wrong += 1;
            }
            let loss = -row[label as usize].max(1e-12).ln();
            if loss > best.loss {
                (best.index, best.loss, best.label, best.predicted) = (i, loss, label, predicted);
            }
        }
    }
    Ok(best)
}

/// Most images `trainerHardest` looks at.
pub const MAX_HARDEST: usize = 10_000;

/// The image the current model gets most wrong (the highest loss) among the first `count` of
/// `dataset`: `{ index, loss, label, predicted, count, wrong }` (`wrong`: how many of the
/// `count` it answers wrongly). The one-step view starts there.
#[wasm_bindgen(js_name = trainerHardest)]
pub fn trainer_hardest(
    t: JsValue,
    dataset: JsValue,
    count: JsValue,
    at: JsValue,
) -> Result<JsValue, JsError> {
    run(|| {
        let at = moment_arg(&at, "Trainer.hardest")?;
        let Whole(n) = arg("count", "Trainer.hardest", &count)?;
        if n == 0 || n > MAX_HARDEST {
            return Err(ArgError::new("count", n, format!("must be 1..{MAX_HARDEST}")).into());
        }
        let h = TRAINERS.with(|tt| {
            let tt = tt.borrow();
            let tr = tt.get("this", &t)?;
            with_dataset("dataset", &dataset, |d| {
                Ok(hardest(&*tr.trainer.model_at(at)?, d, n)?)
            })
        })?;
        to_js(&h)
    })
}

/// How much a dense model's class templates look like the digits: per class, the cosine of its
/// template with the class's mean image in `dataset`, plain and centred (`nn::templates`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TemplateCosines {
    plain: Vec<f32>,
    centred: Vec<f32>,
    /// The smallest centred cosine and its class: every template looks at least this much like
    /// its digit.
    least: f32,
    least_class: usize,
}

/// `{ plain, centred, least, leastClass }`: the cosines of the trainer's class templates (the
/// slp's weight rows, the mlp's W₂·W₁) with the mean image of each class of `dataset`; the
/// shipped slp's centred ones are all at least 0.6. Throws for the cnn.
#[wasm_bindgen(js_name = trainerTemplateCosines)]
pub fn trainer_template_cosines(t: JsValue, dataset: JsValue) -> Result<JsValue, JsError> {
    use crate::nn::templates::{class_means, class_templates, template_cosines};
    run(|| {
        let c = TRAINERS.with(|tt| {
            let tt = tt.borrow();
            let tr = tt.get("this", &t)?;
            let templates = class_templates(&tr.trainer.model)?;
            with_dataset("dataset", &dataset, |d| {
                Ok(template_cosines(&templates, &class_means(d)))
            })
        })?;
        let (least_class, least) = c.iter().map(|&(_, centred)| centred).enumerate().fold(
            (0, f32::INFINITY),
            |a, (i, v)| if v < a.1 { (i, v) } else { a },
        );
        to_js(&TemplateCosines {
            plain: c.iter().map(|p| p.0).collect(),
            centred: c.iter().map(|p| p.1).collect(),
            least,
            least_class,
        })
    })
}

/// How much the class templates looked like the digits at each kept moment.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TemplateHistory {
    /// Per kept moment, the smallest centred cosine of a template with its class's mean image.
    #[serde(serialize_with = "crate::typed::f32s")]
    least: Vec<f32>,
    /// The first moment whose every template reaches `least` (none: not yet).
    first: Option<usize>,
}

/// `{ least, first }`: for every kept moment of the run (`history`), the smallest centred
/// cosine of a class template with its class's mean image in `dataset` (as `templateCosines`),
/// and the first moment at which every template reaches `least`: when the templates first
/// looked like digits. Dense models only.
#[wasm_bindgen(js_name = trainerTemplateHistory)]
pub fn trainer_template_history(
    t: JsValue,
    dataset: JsValue,
    least: JsValue,
) -> Result<JsValue, JsError> {
    use crate::nn::templates::{class_means, class_templates, template_cosines};
    run(|| {
        let super::args::Real(bar) = arg("least", "Trainer.templateHistory", &least)?;
        if !(-1.0..=1.0).contains(&bar) {
            return Err(ArgError::new(
                "least",
                super::args::Seen::Num(bar),
                "must be a cosine, -1..1",
            )
            .into());
        }
        let h = TRAINERS.with(|tt| {
            let tt = tt.borrow();
            let tr = tt.get("this", &t)?;
            let n = tr.trainer.history().map_or(0, |h| h.moments().len());
            class_templates(&tr.trainer.model)?;
            with_dataset("dataset", &dataset, |d| {
                let means = class_means(d);
                let mut least = Vec::with_capacity(n);
                for at in 0..n {
                    let templates = class_templates(&*tr.trainer.model_at(Some(at))?)?;
                    let c = template_cosines(&templates, &means);
                    least.push(c.iter().map(|p| p.1).fold(f32::INFINITY, f32::min));
                }
                let first = least.iter().position(|&v| v as f64 >= bar);
                Ok(TemplateHistory { least, first })
            })
        })?;
        to_js(&h)
    })
}

/// Checks trainer settings as `new Trainer` would for a dataset of `length` images, without
/// one: throws the same message for a refused setting, returns nothing otherwise.
#[wasm_bindgen(js_name = trainerCheck)]
pub fn trainer_check(opts: JsValue, length: JsValue) -> Result<(), JsError> {
    run(|| {
        let Whole(n) = arg("length", "Trainer.check", &length)?;
        let (s, _) = settings_of(&opts)?;
        Trainer::new(s, n)?;
        Ok(())
    })
}

/// Why `bytes` is not a model the page can run, in plain words ("this is not a model file: it
/// starts with text, not a safetensors header"), or `undefined` when it loads: the page shows it
/// above `Model.load`'s exact message.
#[wasm_bindgen(js_name = modelFileProblem)]
pub fn model_file_problem(bytes: JsValue) -> Result<Option<String>, JsError> {
    run(|| {
        let bytes = js::typed::<u8>(
            "bytes",
            &bytes,
            js::at_most("bytes", super::model::MAX_FILE),
        )?;
        Ok(crate::nn::io::problem_in_plain_words(&bytes))
    })
}

/// `at`: a kept moment's index (`Trainer.history().moments`), or now (`undefined`/`null`).
fn moment_arg(at: &JsValue, function: &str) -> R<Option<usize>> {
    if at.is_undefined() || at.is_null() {
        return Ok(None);
    }
    let Whole(at) = arg("at", function, at)?;
    Ok(Some(at))
}

/// A parameterised layer's weight, now or at kept moment `at`: `{ data: Float32Array (a
/// copy), shape, bias, scale }` (`scale`: the colour scale the page draws it on, the 99th
/// percentile of |w|); the first weighted layer also brings `grad`, its weight gradient of the
/// batch before (zeros before any training), and `gradScale`.
#[wasm_bindgen(js_name = trainerWeights)]
pub fn trainer_weights(t: JsValue, name: JsValue, at: JsValue) -> Result<JsValue, JsError> {
    use crate::nn::history::first_weighted;
    run(|| {
        let Name(name) = arg("name", "weights", &name)?;
        let at = moment_arg(&at, "Trainer.weights")?;
        let (w, grad) = with_trainer(&t, |tr| {
            let model = tr.trainer.model_at(at)?;
            let w = super::model::weights_of(&model, &name)?;
            let first = first_weighted(&model).is_some_and(|f| f.1 == name);
            let grad = if first {
                Some(tr.trainer.first_grad_at(at)?)
            } else {
                None
            };
            Ok((w, grad))
        })?;
        to_js(&super::model::WeightsJs::new(w, grad))
    })
}

/// One kept moment, as JS reads it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MomentJs {
    steps: f64,
    samples: f64,
    epoch: usize,
    done: usize,
    batch_loss: Option<f32>,
    batch_accuracy: Option<f32>,
}

/// A run's history, as JS reads it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HistoryJs {
    moments: Vec<MomentJs>,
    /// Steps between kept moments now (it doubles as the run grows).
    every: f64,
    /// Most moments kept, and the bytes each takes.
    cap: usize,
    bytes_each: usize,
    /// Why none is kept, if so.
    off: Option<String>,
}

/// The run's kept moments, oldest first (`{ moments: [{ steps, samples, epoch, done,
/// batchLoss, batchAccuracy }], every, cap, bytesEach, off }`); a trainer made without
/// `{ history: true }` has none.
#[wasm_bindgen(js_name = trainerHistory)]
pub fn trainer_history(t: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let h = with_trainer(&t, |tr| {
            let finite = |v: f32| v.is_finite().then_some(v);
            Ok(match tr.trainer.history() {
                None => HistoryJs {
                    moments: Vec::new(),
                    every: 0.0,
                    cap: 0,
                    bytes_each: 0,
                    off: Some(
                        "this trainer keeps no history (make it with { history: true })".into(),
                    ),
                },
                Some(h) => HistoryJs {
                    moments: h
                        .moments()
                        .iter()
                        .map(|m| MomentJs {
                            steps: m.steps as f64,
                            samples: m.samples as f64,
                            epoch: m.epoch,
                            done: m.done,
                            batch_loss: finite(m.batch_loss),
                            batch_accuracy: finite(m.batch_accuracy),
                        })
                        .collect(),
                    every: h.every() as f64,
                    cap: h.cap(),
                    bytes_each: h.bytes_each(),
                    off: h.off().map(str::to_string),
                },
            })
        })?;
        to_js(&h)
    })
}

/// Goes back to kept moment `at` and trains on from there (its weights, its place in the
/// data; the later moments dropped; the optimiser's running state starts again). Returns the
/// status.
#[wasm_bindgen(js_name = trainerRewind)]
pub fn trainer_rewind(t: JsValue, at: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let Whole(at) = arg("at", "Trainer.rewind", &at)?;
        let s = with_trainer(&t, |tr| {
            no_pending(tr)?;
            let s = tr.trainer.rewind(at)?;
            Ok(status_js(&tr.trainer, s))
        })?;
        to_js(&s)
    })
}

/// The model as a safetensors file (f32, PyTorch names, the arch in the metadata), which
/// `Model.load` and PyTorch both read.
#[wasm_bindgen(js_name = trainerSave)]
pub fn trainer_save(t: JsValue) -> Result<Vec<u8>, JsError> {
    run(|| {
        with_trainer(&t, |tr| {
            Ok(tr
                .trainer
                .model
                .to_safetensors_as(safetensors::Dtype::F32)?)
        })
    })
}
