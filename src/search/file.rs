//! The study file: a JSON document of the search's definition and its
//! finished trials, replaced atomically after every trial.

use super::direction::Direction;
use super::sampler::Sampler;
use super::space::SearchSpace;
use super::trial::TrialRecord;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

const FORMAT: &str = "neurite-study";
const VERSION: u32 = 1;
/// A study file is small (a few KiB per hundred trials); anything larger is
/// not one, and is refused before it is read into memory.
const MAX_BYTES: u64 = 256 << 20;

#[derive(Serialize, Deserialize)]
pub(crate) struct StudyFile {
    format: String,
    version: u32,
    space: SearchSpace,
    direction: Direction,
    sampler: Sampler,
    seed: u64,
    pub(crate) trials: Vec<TrialRecord>,
}

impl StudyFile {
    pub(crate) fn new(
        space: &SearchSpace,
        direction: Direction,
        sampler: &Sampler,
        seed: u64,
        trials: &[TrialRecord],
    ) -> StudyFile {
        StudyFile {
            format: FORMAT.into(),
            version: VERSION,
            space: space.clone(),
            direction,
            sampler: sampler.clone(),
            seed,
            trials: trials.to_vec(),
        }
    }

    pub(crate) fn write(&self, path: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::invalid("Study", format!("encoding the study file: {e}")))?;
        crate::checkpoint::write_atomic(path, &bytes)
    }

    pub(crate) fn read(path: &Path) -> Result<StudyFile> {
        let bad = |msg: String| Error::Format {
            path: path.display().to_string(),
            msg,
        };
        let len = std::fs::metadata(path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?
            .len();
        if len > MAX_BYTES {
            return Err(bad(format!(
                "{len} bytes is too large for a study file (at most {MAX_BYTES})"
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        let file: StudyFile =
            serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a neurite study file: {e}")))?;
        if file.format != FORMAT || file.version != VERSION {
            return Err(bad(format!(
                "format {:?} version {}, expected {FORMAT:?} version {VERSION}",
                file.format, file.version
            )));
        }
        file.space
            .validate()
            .map_err(|e| bad(format!("its search space is invalid: {e}")))?;
        let mut numbers: Vec<usize> = file.trials.iter().map(|t| t.number).collect();
        numbers.sort_unstable();
        if numbers.windows(2).any(|w| w[0] == w[1]) {
            return Err(bad("it lists a trial number twice".into()));
        }
        for t in &file.trials {
            for (name, v) in t.params.iter() {
                let ok = file.space.params().iter().any(|(n, d)| n == name && d.contains(v));
                if !ok {
                    return Err(bad(format!(
                        "trial {} has {name} = {v}, outside its search space",
                        t.number
                    )));
                }
            }
        }
        let mut file = file;
        file.trials.sort_by_key(|t| t.number);
        Ok(file)
    }

    /// An error unless this file belongs to the study being created.
    pub(crate) fn check_matches(
        &self,
        path: &Path,
        space: &SearchSpace,
        direction: Direction,
        sampler: &Sampler,
        seed: u64,
    ) -> Result<()> {
        let mut diffs = Vec::new();
        if self.space != *space {
            diffs.push(format!(
                "search space {:?} (this study: {:?})",
                self.space.params(),
                space.params()
            ));
        }
        if self.direction != direction {
            diffs.push(format!("direction {:?} (this study: {direction:?})", self.direction));
        }
        if self.sampler != *sampler {
            diffs.push(format!("sampler {:?} (this study: {sampler:?})", self.sampler));
        }
        if self.seed != seed {
            diffs.push(format!("seed {} (this study: {seed})", self.seed));
        }
        if diffs.is_empty() {
            return Ok(());
        }
        Err(Error::invalid(
            "Study::storage",
            format!(
                "{} belongs to another search: it has {}; use another file or the same settings",
                path.display(),
                diffs.join(", ")
            ),
        ))
    }
}
