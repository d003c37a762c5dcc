"""The Python stack `stance classify` replaces, for bench/vs_python.sh: Hugging Face
`transformers` on PyTorch with the same MiniLM-L6 files, the same two passes over every sentence
((target, sentence) up to 112 word pieces, ("overall tone", sentence) up to 96), length-sorted
batches of 32 padded to their longest, mean pooling and a 3-way softmax head per pass. The heads
are untrained (their cost is negligible next to the encoder's); this measures speed, not labels.

    python vs_python.py MODEL_DIR SENTENCES.txt THREADS
Prints one line: sentences, load seconds, labelling seconds, sentences/s.
"""
import sys
import time

import torch
from transformers import BertModel, BertTokenizerFast


def main():
    model_dir, path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.set_num_threads(threads)
    sentences = [line.strip() for line in open(path, encoding="utf-8") if line.strip()]
    started = time.perf_counter()
    tokenizer = BertTokenizerFast(vocab_file=f"{model_dir}/vocab.txt", do_lower_case=True)
    encoder = BertModel.from_pretrained(model_dir).eval()
    torch.manual_seed(0)
    heads = [torch.nn.Linear(encoder.config.hidden_size, 3) for _ in range(2)]
    load = time.perf_counter() - started
    order = sorted(range(len(sentences)), key=lambda i: (len(sentences[i]), i))
    started = time.perf_counter()
    with torch.inference_mode():
        for head, (first, max_length) in zip(heads, [("Japan's rearmament", 112), ("overall tone", 96)]):
            for k in range(0, len(order), 32):
                batch = [sentences[i] for i in order[k : k + 32]]
                enc = tokenizer([first] * len(batch), batch, truncation="only_second", max_length=max_length,
                                padding=True, return_tensors="pt")
                hidden = encoder(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1)
                head(pooled).softmax(-1)
    seconds = time.perf_counter() - started
    print(f"{len(sentences)} {load:.3f} {seconds:.3f} {len(sentences) / seconds:.2f}")


if __name__ == "__main__":
    main()
