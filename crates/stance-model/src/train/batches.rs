//! The order training sees its rows in: seeded, so a resumed run sees the same batches, and
//! length-grouped, so batches carry little padding.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use stance_core::data::examples::Example;

/// The batches of one epoch: a seeded shuffle, then rows of similar length grouped (within
/// windows of 50 batches) to cut padding, then the batches shuffled again.
pub(super) fn epoch_batches(examples: &[Example], batch_size: usize, seed: u64, epoch: usize) -> Vec<Vec<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(epoch as u64));
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.shuffle(&mut rng);
    let mut batches = Vec::new();
    for window in order.chunks(batch_size * 50) {
        let mut window = window.to_vec();
        window.sort_by_key(|&i| examples[i].text.len() + examples[i].target.len());
        batches.extend(window.chunks(batch_size).map(<[usize]>::to_vec));
    }
    batches.shuffle(&mut rng);
    batches
}

/// The batches of one epoch of a (possibly joint) run: each task's batches as
/// [`epoch_batches`] makes them, tagged with the task's index; with more than one task,
/// interleaved by a seeded shuffle.
pub(super) fn joint_batches(tasks: &[&[Example]], batch_size: usize, seed: u64, epoch: usize) -> Vec<(usize, Vec<usize>)> {
    let mut out: Vec<(usize, Vec<usize>)> = Vec::new();
    for (t, rows) in tasks.iter().enumerate() {
        out.extend(epoch_batches(rows, batch_size, seed.wrapping_add(t as u64 * 7919), epoch).into_iter().map(|b| (t, b)));
    }
    if tasks.len() > 1 {
        out.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x5eed ^ ((epoch as u64) << 32)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_batches_are_a_seeded_permutation() {
        let examples: Vec<Example> = (0..103).map(|i| Example { text: "x".repeat(i % 17), target: "t".into(), label: 0 }).collect();
        let a = epoch_batches(&examples, 8, 1, 0);
        assert_eq!(a, epoch_batches(&examples, 8, 1, 0));
        assert_ne!(a, epoch_batches(&examples, 8, 1, 1));
        let mut all: Vec<usize> = a.concat();
        all.sort();
        assert_eq!(all, (0..103).collect::<Vec<_>>());
    }

    #[test]
    fn joint_batches_cover_each_task_once_and_interleave() {
        let rows =
            |n: usize| -> Vec<Example> { (0..n).map(|i| Example { text: "x".repeat(i % 5), target: "t".into(), label: 0 }).collect() };
        let (a, b) = (rows(40), rows(24));
        let batches = joint_batches(&[&a, &b], 8, 3, 0);
        assert_eq!(batches, joint_batches(&[&a, &b], 8, 3, 0));
        for (task, n) in [(0, 40), (1, 24)] {
            let mut seen: Vec<usize> = batches.iter().filter(|(t, _)| *t == task).flat_map(|(_, b)| b.clone()).collect();
            seen.sort();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "task {task}");
        }
        let first_half: Vec<usize> = batches[..4].iter().map(|(t, _)| *t).collect();
        assert!(first_half.contains(&0) || first_half.contains(&1));
        assert_ne!(batches.iter().map(|(t, _)| *t).collect::<Vec<_>>(), [0, 0, 0, 0, 0, 1, 1, 1], "not interleaved");
        // One task alone: exactly its own epoch batches.
        let alone: Vec<Vec<usize>> = joint_batches(&[&a], 8, 3, 0).into_iter().map(|(_, b)| b).collect();
        assert_eq!(alone, epoch_batches(&a, 8, 3, 0));
    }
}
