//! `stance agree`: agreement between taggers, and an adjudicated gold file.

use crate::cli::AgreeArgs;
use anyhow::Result;
use stance_core::annotate::{adjudicate, agreement, read_tagger, LabelColumn};
use stance_core::labels::Task;
use stance_core::output::write_atomic;
use stance_core::stats::Bootstrap;

/// Runs `stance agree`.
pub fn execute(a: AgreeArgs) -> Result<()> {
    let inputs: Vec<&std::path::Path> = a.files.iter().map(|f| f.as_path()).collect();
    for out in [&a.out, &a.disagreements, &a.adjudicate].into_iter().flatten() {
        stance_core::output::refuse_to_overwrite_inputs(out, &inputs)?;
    }
    // The compared column, and with --adjudicate every other label column all files have (so
    // the merged file is a complete gold file); each read once.
    let mut columns = Vec::new();
    for task in Task::ALL {
        let (name, labels, neutral) = (task.name(), task.labels(), task.neutral());
        let wanted = task == a.column
            || (a.adjudicate.is_some()
                && a.files
                    .iter()
                    .map(|f| Ok(stance_core::data::table::CsvFile::open(f, "tagged file")?.column(name).is_some()))
                    .collect::<Result<Vec<bool>>>()?
                    .into_iter()
                    .all(|has| has));
        if wanted {
            let taggers = a.files.iter().map(|f| read_tagger(f, name, labels)).collect::<Result<Vec<_>, _>>()?;
            columns.push(LabelColumn { name, categories: labels, neutral, taggers });
        }
    }
    let compared = columns.iter().find(|c| c.name == a.column.name()).expect("the compared column is always read");
    let (taggers, categories) = (&compared.taggers, compared.categories);
    let mut names = std::collections::HashSet::new();
    for t in taggers {
        if !names.insert(t.name.clone()) {
            anyhow::bail!("two tagged files share the name '{}' (taggers are named by file stem): rename one", t.name);
        }
    }
    let agreement = agreement(taggers, categories, Bootstrap { resamples: 2000, seed: 13 });
    if agreement.pairable == 0 {
        anyhow::bail!("no sentence was tagged by two of the files: check that they share doc_id and sentence text");
    }
    print!("{}", agreement.render(taggers));
    if let Some(out) = &a.out {
        write_atomic(out, &agreement.to_csv()?)?;
    }
    if let Some(out) = &a.disagreements {
        write_atomic(out, &agreement.disagreements_csv(taggers)?)?;
    }
    if let Some(out) = &a.adjudicate {
        let (csv, left_out) = adjudicate(&columns, a.prefer.as_deref(), a.ties_neutral)?;
        write_atomic(out, &csv)?;
        let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
        println!(
            "merged gold ({}) written to {} ({left_out} sentences left out: a tie not settled, or a label missing)",
            names.join(", "),
            out.display()
        );
    }
    Ok(())
}
