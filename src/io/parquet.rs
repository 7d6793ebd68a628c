//! Parquet in and out (feature `parquet`).

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use super::arrow::{ArrowOptions, BatchReader, Origin};
use crate::data::{Dataset, DatasetBuilder, Loaded};
use crate::error::{Error, Result};

/// The Parquet files under `path`: the file itself, or every `*.parquet` file in the
/// folder and its subfolders (Hive-style `key=value/` partitions included), in path
/// order so that every run reads them in the same order.
///
/// # Errors
/// [`Error::Io`] when the folder cannot be listed; [`Error::EmptyInput`] when it holds
/// no Parquet file.
pub fn parquet_files(path: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
    let path = path.as_ref();
    if !path.is_dir() {
        // A missing file is reported by the open that follows, with its name.
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let p = entry?.path();
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.') || n.starts_with('_'));
            if hidden {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "parquet") {
                files.push(p);
            }
        }
    }
    if files.is_empty() {
        return Err(Error::EmptyInput);
    }
    files.sort();
    Ok(files)
}

fn parquet_error(file: &Path, e: impl std::fmt::Display) -> Error {
    Error::Engine {
        engine: "parquet",
        message: format!("{}: {e}", file.display()),
    }
}

impl ArrowOptions {
    /// Reads a Parquet file, or a folder of them ([`parquet_files`]), with a default
    /// (strict) builder.
    ///
    /// # Errors
    /// See [`read_parquet_into`](Self::read_parquet_into).
    pub fn read_parquet(&self, path: impl AsRef<Path>) -> Result<Loaded> {
        self.read_parquet_into(Dataset::builder(), path)
    }

    /// Reads a Parquet file or folder into a builder. Only the columns these options use
    /// are decoded (projection); row groups are decoded and converted in parallel, a few
    /// per thread at a time, and merged in file and row-group order, so memory holds the
    /// dataset and those row groups' columns, and the dataset is the same for any thread
    /// count. The files of a folder may differ in the types of a column (one dictionary-
    /// encoded, another not) but must have the same optional columns.
    ///
    /// # Errors
    /// As [`read_into`](Self::read_into), where an [`Error::Batch`] names the file, the
    /// row group (as its batch) and the row within it; [`Error::Engine`] (`parquet`)
    /// naming the file when it is not Parquet or cannot be decoded; [`Error::Io`] when a
    /// file cannot be opened.
    pub fn read_parquet_into(
        &self,
        builder: DatasetBuilder,
        path: impl AsRef<Path>,
    ) -> Result<Loaded> {
        let files = parquet_files(path)?;
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        // Every (file, row group) with its first row in the whole input.
        let mut units = Vec::new();
        let mut first_row = 0u64;
        for (f, file) in files.iter().enumerate() {
            let meta = ParquetRecordBatchReaderBuilder::try_new(File::open(file)?)
                .map_err(|e| parquet_error(file, e))?;
            for (g, rg) in meta.metadata().row_groups().iter().enumerate() {
                units.push((f, g, first_row, rg.num_rows().max(0) as usize));
                first_row += rg.num_rows().max(0) as u64;
            }
        }
        let mut reader = BatchReader::new(self, builder);
        let wave = rayon::current_num_threads() * 2;
        for wave_units in units.chunks(wave) {
            let batches: Vec<Result<Vec<RecordBatch>>> = wave_units
                .par_iter()
                .map(|&(f, g, _, rows)| self.read_row_group(&files[f], g, rows))
                .collect();
            let mut owned = Vec::with_capacity(batches.len());
            for b in batches {
                owned.push(b?);
            }
            let mut parts = Vec::new();
            for (&(f, g, first, _), bs) in wave_units.iter().zip(&owned) {
                let mut row = first;
                for b in bs {
                    parts.push((
                        b,
                        Origin {
                            file: Some(names[f].as_str()),
                            batch: g as u64,
                            first_row: row,
                        },
                    ));
                    row += b.num_rows() as u64;
                }
            }
            reader.absorb_wave(&parts)?;
        }
        reader.finish()
    }

    /// Row group `g` of `file`, with only the columns these options read, as one batch.
    fn read_row_group(&self, file: &Path, g: usize, rows: usize) -> Result<Vec<RecordBatch>> {
        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(file)?)
            .map_err(|e| parquet_error(file, e))?;
        let schema = builder.schema().clone();
        let available: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        // Columns a file lacks are left for the reader to report by name.
        let roots: Vec<usize> = self
            .projection(&available)
            .iter()
            .filter_map(|c| schema.index_of(c).ok())
            .collect();
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
        let reader = builder
            .with_row_groups(vec![g])
            .with_projection(mask)
            .with_batch_size(rows.max(1))
            .build()
            .map_err(|e| parquet_error(file, e))?;
        reader
            .map(|b| b.map_err(|e| parquet_error(file, e)))
            .collect()
    }
}

/// Writes record batches (all of one schema) as a Parquet file, Snappy-compressed.
///
/// # Errors
/// [`Error::Io`] when the file cannot be created; [`Error::Engine`] (`parquet`) when
/// the batches cannot be written (their schemas differ).
pub fn write_parquet(path: impl AsRef<Path>, batches: &[RecordBatch]) -> Result<()> {
    let path = path.as_ref();
    let Some(first) = batches.first() else {
        return Err(Error::EmptyInput);
    };
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut w = ArrowWriter::try_new(File::create(path)?, first.schema(), Some(props))
        .map_err(|e| parquet_error(path, e))?;
    for b in batches {
        w.write(b).map_err(|e| parquet_error(path, e))?;
    }
    w.close().map_err(|e| parquet_error(path, e))?;
    Ok(())
}
