"""The training loops of tune's PyTorch programs: HF Trainer for SFT, a Trainer with our `compute_loss` for DPO.

Why this exists: HF Trainer gives accelerate/DeepSpeed/FSDP, mixed precision, accumulation, clipping,
checkpoints and resume; tune adds what the recipe means on top of it: our schedules (exact LambdaLR factors,
SamPO's WarmupDecayLR when DeepSpeed does not supply it), the global batch kept on any number of processes,
completion-only labels from our template boundaries, the DPO family of losses with TRL's metrics, progress
lines with the in-process executor's names, graceful SIGINT and resume from the newest `checkpoint-*`.
Written against transformers 4.46–5.x: keyword arguments a release does not know are dropped, with a note.
"""
import dataclasses
import os
from collections import defaultdict

import torch

from tune_torch import common, data as D, losses as L, models as M, order as O, schedule as S


# ---- what this machine can do

BNB_OPTIMIZERS = ("paged_adamw_32bit", "paged_adamw_8bit", "adamw_bnb_8bit", "adamw_8bit")


def device_fallbacks(job):
    """QLoRA's 4-bit base and the 8-bit/paged optimizers need bitsandbytes on a CUDA device.

    With CUDA, a missing bitsandbytes is an error (T7609). Without CUDA (a CPU smoke run of a recipe written for
    GPUs) the node trains what the machine can: LoRA on the unquantized base, torch AdamW; each change is a
    `warning` event, so the run is never mistaken for the recipe's real training.
    """
    import importlib.util
    adapter = job.get("adapter") or {}
    t = job["train"]
    needs_bnb = adapter.get("method") == "qlora" or t.get("optim") in BNB_OPTIMIZERS
    if not needs_bnb:
        return
    if torch.cuda.is_available():
        if importlib.util.find_spec("bitsandbytes") is None:
            common.fail("T7609", "%s needs bitsandbytes (QLoRA 4-bit base or optimizer %s) and it is not installed" % (job["node"], t.get("optim")),
                        "pip install bitsandbytes (it needs a CUDA build of torch)")
        return
    if adapter.get("method") == "qlora":
        job["adapter"] = dict(adapter, method="lora")
        common.emit_event("warning", node=job["node"], message="no CUDA device: QLoRA's 4-bit base needs bitsandbytes on CUDA; "
                          "training LoRA on the unquantized base instead (same adapter files, not the recipe's numerics)")
    if t.get("optim") in BNB_OPTIMIZERS:
        common.emit_event("warning", node=job["node"], message="no CUDA device: optimizer %s needs bitsandbytes on CUDA; using adamw_torch" % t["optim"])
        t["optim"] = "adamw_torch"


# ---- TrainingArguments across transformers releases

def training_arguments(job, output_dir, grad_accum, has_eval):
    from transformers import TrainingArguments
    t = job["train"]
    cuda = torch.cuda.is_available()
    precision = job.get("precision", "bf16")
    bf16 = cuda and precision == "bf16" and torch.cuda.is_bf16_supported()
    fp16 = cuda and precision == "fp16"
    betas = t.get("betas") or [0.9, 0.999]
    save_steps = int(t.get("save_steps") or 0)
    kw = {
        "output_dir": output_dir,
        "per_device_train_batch_size": int(t["micro_batch"]),
        "per_device_eval_batch_size": int(t["micro_batch"]),
        "gradient_accumulation_steps": grad_accum,
        "learning_rate": float(t["lr"]),
        "num_train_epochs": float(t["epochs"]),
        "max_steps": int(t.get("max_steps") or -1),
        "weight_decay": float(t.get("weight_decay", 0.0)),
        "adam_beta1": float(betas[0]),
        "adam_beta2": float(betas[1]),
        "adam_epsilon": float(t.get("eps", 1e-8)),
        "max_grad_norm": float(t.get("max_grad_norm", 1.0)),
        "optim": t.get("optim", "adamw_torch"),
        "logging_strategy": "steps",
        "logging_steps": 1,
        "save_strategy": "steps" if save_steps > 0 else "epoch",
        "save_steps": save_steps if save_steps > 0 else 500,
        "save_total_limit": 2,
        "eval_strategy": "epoch" if has_eval else "no",
        "bf16": bf16,
        "fp16": fp16,
        "gradient_checkpointing": bool(t.get("gradient_checkpointing")),
        "gradient_checkpointing_kwargs": {"use_reentrant": False},
        "seed": int(job["seed"]),
        "data_seed": int(job["seed"]),
        "report_to": [],
        "remove_unused_columns": False,
        "dataloader_num_workers": 0,
        "disable_tqdm": True,
        "ddp_find_unused_parameters": False,
        "use_cpu": not cuda,
    }
    # Our create_scheduler reads warmup from the job; these feed DeepSpeed's "auto" WarmupDecayLR fields.
    if t.get("warmup_steps"):
        kw["warmup_steps"] = int(t["warmup_steps"])
    elif t.get("warmup_ratio"):
        kw["warmup_ratio"] = float(t["warmup_ratio"])
    fields = {f.name for f in dataclasses.fields(TrainingArguments)}
    if "eval_strategy" not in fields:
        kw["evaluation_strategy"] = kw.pop("eval_strategy")
    if "use_cpu" not in fields:
        kw["no_cuda"] = kw.pop("use_cpu")
    if "warmup_ratio" in kw and "warmup_ratio" not in fields:
        kw["warmup_steps"] = kw.pop("warmup_ratio")  # transformers 5: a float in [0, 1) is a ratio
    dropped = sorted(k for k in kw if k not in fields)
    if dropped:
        common.emit_event("warning", message="this transformers release has no TrainingArguments " + ", ".join(dropped))
    return TrainingArguments(**{k: v for k, v in kw.items() if k in fields})


def make_trainer_class():
    from transformers import Trainer, TrainerCallback

    class ProgressCallback(TrainerCallback):
        """Progress lines, the interruption vote, and the node's own metrics.jsonl."""

        def __init__(self, job):
            self.job = job

        def on_train_begin(self, args, state, control, **kw):
            common.emit_event("train_begin", node=self.job["node"], max_steps=state.max_steps, epochs=args.num_train_epochs,
                              world_size=args.world_size, grad_accum=args.gradient_accumulation_steps)

        def on_log(self, args, state, control, logs=None, **kw):
            if not logs or not state.is_world_process_zero:
                return
            rec = {"node": self.job["node"], "stage": self.job["stage"], "step": state.global_step}
            for k, v in logs.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    rec[k] = v
            common.emit_metric(rec)

        def on_step_end(self, args, state, control, **kw):
            if common.stop_requested_anywhere():
                common.Stop.requested = True
                control.should_save = True
                control.should_training_stop = True

    class TuneTrainer(Trainer):
        tune_schedule = "linear"
        tune_warmup_steps = 0
        tune_warmup_ratio = 0.0
        tune_seed = 42
        tune_node = None

        def _get_train_sampler(self, *args, **kwargs):
            """tune's own epoch order (order.py), so both executors see the same batches."""
            dataset = args[0] if args and args[0] is not None else kwargs.get("train_dataset") or self.train_dataset
            return EpochSampler(len(dataset), self.tune_seed)

        def create_scheduler(self, num_training_steps, optimizer=None):
            if self.lr_scheduler is None:
                opt = optimizer if optimizer is not None else self.optimizer
                w = S.warmup_steps(num_training_steps, self.tune_warmup_steps, self.tune_warmup_ratio)
                self.lr_scheduler = S.torch_scheduler(opt, self.tune_schedule, w, num_training_steps)
                self._created_lr_scheduler = True
                common.emit_event("schedule", node=self.tune_node, kind=self.tune_schedule, warmup_steps=w, total_steps=num_training_steps)
            return self.lr_scheduler

    return TuneTrainer, ProgressCallback


def configure(trainer, job):
    from transformers.trainer_callback import PrinterCallback
    trainer.remove_callback(PrinterCallback)  # our TUNE_METRIC lines carry the same numbers
    t = job["train"]
    trainer.tune_seed = int(job["seed"])
    trainer.tune_node = job["node"]
    trainer.tune_schedule = t.get("schedule", "linear")
    trainer.tune_warmup_steps = int(t.get("warmup_steps") or 0)
    trainer.tune_warmup_ratio = float(t.get("warmup_ratio") or 0.0)


def last_checkpoint(folder):
    if not os.path.isdir(folder):
        return None
    from transformers.trainer_utils import get_last_checkpoint
    return get_last_checkpoint(folder)


def finish(trainer, tokenizer, job, grad_accum):
    node_dir = common.out_path(job["output_dir"])
    if common.Stop.requested:
        common.emit_event("interrupted", node=job["node"], step=trainer.state.global_step,
                          message="checkpoint saved under %s; run launch.sh again to resume" % os.path.join(node_dir, "checkpoints"))
        raise SystemExit(common.EXIT_INTERRUPTED)
    final_dir = os.path.join(node_dir, "adapter" if job.get("adapter") else "model")
    M.save_final(trainer, tokenizer, final_dir)
    if common.is_main():
        trainer.state.save_to_json(os.path.join(node_dir, "trainer_state.json"))  # the whole log history, next to done.json
    common.mark_done(job, final=final_dir, steps=trainer.state.global_step, grad_accum=grad_accum)
    common.emit_event("node_done", node=job["node"], final=final_dir, steps=trainer.state.global_step)


class EpochSampler(O.EpochSampler, torch.utils.data.Sampler):
    """order.EpochSampler first in the MRO: torch's Sampler.__iter__ only raises NotImplementedError."""


class ListDataset(torch.utils.data.Dataset):
    def __init__(self, rows):
        self.rows = rows

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows[i]


# ---- SFT

def sft_collator(pad_id, packed):
    def collate(features):
        if packed:  # padding-free: one row, position ids restart per sequence (flash-attention-2 keeps them apart)
            ids = [t for f in features for t in f["input_ids"]]
            labels = [t for f in features for t in f["labels"]]
            pos = [t for f in features for t in f["position_ids"]]
            return {"input_ids": torch.tensor([ids]), "labels": torch.tensor([labels]), "position_ids": torch.tensor([pos])}
        b = D.pad_batch(features, ["input_ids", "labels"], [pad_id, D.IGNORE_INDEX])
        return {k: torch.tensor(v) for k, v in b.items()}
    return collate


def tokenize_sft_rows(rows, tok, job):
    tk = job["tokenize"]
    out = [D.tokenize_sft(r, tok, tk["cutoff"], tk.get("truncation", "keep_start"), tk.get("eos", False), tk.get("mask_prompt", True)) for r in rows]
    truncated = sum(1 for e in out if e.pop("truncated"))
    # An example with no label token left trains nothing; it is dropped, as in process (runtime/exec/ops/tokenize.ts),
    # which also keeps the epoch order (a permutation of the kept examples) the same in both executors.
    kept = [e for e in out if any(x != D.IGNORE_INDEX for x in e["labels"])]
    if rows and not kept:
        common.fail("T7643", "%s: every one of %d examples has no label token left" % (job["node"], len(rows)),
                    "the template masks the whole sequence or the prompt is longer than the cutoff (%d tokens)" % tk["cutoff"])
    return kept, {"examples": len(kept), "truncated": truncated, "no_label_dropped": len(out) - len(kept)}


def run_sft(job, rows, valid_rows, grad_accum):
    attn = M.attn_implementation(job.get("flash_attention"))
    tokenizer = M.load_tokenizer(job)
    tok = D.HfTokenizer(tokenizer)
    train, stats = tokenize_sft_rows(rows, tok, job)
    common.emit_event("tokenized", node=job["node"], split="train", **stats)
    evals = tokenize_sft_rows(valid_rows, tok, job)[0] if valid_rows else None
    packed = bool(job["tokenize"].get("packing"))
    if packed:
        if attn != "flash_attention_2":
            common.emit_event("warning", message="packing without flash-attention-2: attention crosses packed sequences")
        train = D.pack_bfd(train, job["tokenize"]["cutoff"])
        common.emit_event("packed", node=job["node"], rows=len(train))
    model = M.load_policy(job, attn)
    node_dir = common.out_path(job["output_dir"])
    common.set_metrics_file(os.path.join(node_dir, "metrics.jsonl"))
    args = training_arguments(job, os.path.join(node_dir, "checkpoints"), grad_accum, bool(evals))
    TuneTrainer, ProgressCallback = make_trainer_class()
    trainer = TuneTrainer(model=model, args=args, train_dataset=ListDataset(train), eval_dataset=ListDataset(evals) if evals else None,
                          data_collator=sft_collator(tokenizer.pad_token_id, packed), callbacks=[ProgressCallback(job)])
    configure(trainer, job)
    resume = last_checkpoint(args.output_dir)
    if resume:
        common.emit_event("resume", node=job["node"], checkpoint=resume)
    trainer.train(resume_from_checkpoint=resume)
    finish(trainer, tokenizer, job, grad_accum)


# ---- DPO / SamPO

def pair_collator(pad_id):
    def collate(features):
        rows = [f["chosen_input_ids"] for f in features] + [f["rejected_input_ids"] for f in features]
        labels = [f["chosen_labels"] for f in features] + [f["rejected_labels"] for f in features]
        b = D.pad_batch([{"input_ids": r, "labels": l} for r, l in zip(rows, labels)], ["input_ids", "labels"], [pad_id, D.IGNORE_INDEX])
        return {k: torch.tensor(v) for k, v in b.items()}
    return collate


def make_dpo_trainer_class():
    TuneTrainer, ProgressCallback = make_trainer_class()

    class DpoTrainer(TuneTrainer):
        """TRL-compatible DPO objective as a Trainer `compute_loss` (losses.py has the math)."""

        def setup_dpo(self, dpo, ref_mode, ref_model):
            self.dpo = dpo
            self.ref_mode = ref_mode
            self.ref_model = ref_model
            self.stored = {"train": defaultdict(list), "eval": defaultdict(list)}
            # The loss is a mean over pairs, not over tokens: let the Trainer divide by accumulation (TRL does this).
            self.model_accepts_loss_kwargs = False
            if ref_model is not None:
                if self.is_deepspeed_enabled:
                    self.ref_model = prepare_deepspeed_reference(self.accelerator, ref_model)
                else:
                    self.ref_model = self.accelerator.prepare_model(ref_model, evaluation_mode=True)

        def _scores(self, model, inputs):
            out = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], use_cache=False)
            return L.sequence_logps(out.logits, inputs["labels"], sampo=self.dpo["loss"] == "sampo", average=self.dpo["loss"] == "ipo")

        def _reference(self, model, inputs):
            if self.ref_mode == "none":
                return None
            with torch.no_grad():
                if self.ref_mode == "model":
                    return self._scores(self.ref_model, inputs)[0]
                peft_model = self.accelerator.unwrap_model(model)
                if self.ref_mode == "disable_adapter":
                    with peft_model.disable_adapter():
                        return self._scores(model, inputs)[0]
                peft_model.set_adapter("ref")
                try:
                    return self._scores(model, inputs)[0]
                finally:
                    peft_model.set_adapter("default")

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            mode = "train" if model.training else "eval"
            scores, _, mean_logits = self._scores(model, inputs)
            ref = self._reference(model, inputs)
            half = scores.shape[0] // 2
            rc, rr = (ref[:half], ref[half:]) if ref is not None else (None, None)
            losses, chosen_r, rejected_r = L.dpo_loss(self.dpo["loss"], self.dpo["beta"], scores[:half], scores[half:], rc, rr,
                                                      self.dpo.get("label_smoothing", 0.0))
            loss = losses.mean()
            g = self.accelerator.gather_for_metrics
            metrics = L.reward_metrics("", g(chosen_r), g(rejected_r), g(scores[:half].detach()), g(scores[half:].detach()),
                                       g(mean_logits[:half]), g(mean_logits[half:]))
            for k, v in metrics.items():
                self.stored[mode][k].append(v)
            return (loss, {"chosen_rewards": chosen_r, "rejected_rewards": rejected_r}) if return_outputs else loss

        def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
            inputs = self._prepare_inputs(inputs)
            with torch.no_grad():
                loss = self.compute_loss(model, inputs)
            return loss.detach(), None, None

        def log(self, logs, *args, **kwargs):
            mode = "train" if "loss" in logs else "eval"
            prefix = "" if mode == "train" else "eval_"
            for k, vals in self.stored[mode].items():
                if vals:
                    logs[prefix + k] = sum(vals) / len(vals)
            self.stored[mode].clear()
            return super().log(logs, *args, **kwargs)

    return DpoTrainer, ProgressCallback


def prepare_deepspeed_reference(accelerator, model):
    """A frozen reference under DeepSpeed (ZeRO-3 shards it like the policy; other stages run it unsharded)."""
    import copy
    import deepspeed
    config = copy.deepcopy(accelerator.state.deepspeed_plugin.deepspeed_config)
    if config["zero_optimization"]["stage"] == 3:
        hidden = getattr(model.config, "hidden_size", None)
        if hidden:
            config["zero_optimization"]["reduce_bucket_size"] = hidden * hidden
            config["zero_optimization"]["stage3_param_persistence_threshold"] = 10 * hidden
            config["zero_optimization"]["stage3_prefetch_bucket_size"] = int(0.9 * hidden * hidden)
    else:
        config["zero_optimization"]["stage"] = 0
    config.pop("optimizer", None)
    config.pop("scheduler", None)
    engine, *_ = deepspeed.initialize(model=model, config=config)
    engine.eval()
    return engine


def tokenize_pairs(rows, tok, job):
    tk = job["tokenize"]
    out, truncated = [], 0
    for r in rows:
        ex = D.tokenize_pair(r, tok, tk["max_length"], tk["max_prompt_length"], tk.get("truncation", "keep_start"), tk.get("eos", True))
        truncated += 1 if ex["truncated"] else 0
        out.append(D.pair_features(ex))
    return out, {"examples": len(out), "truncated": truncated}


def run_dpo(job, rows, valid_rows, grad_accum):
    attn = M.attn_implementation(job.get("flash_attention"))
    tokenizer = M.load_tokenizer(job)
    tok = D.HfTokenizer(tokenizer)
    train, stats = tokenize_pairs(rows, tok, job)
    common.emit_event("tokenized", node=job["node"], split="train", **stats)
    evals = tokenize_pairs(valid_rows, tok, job)[0] if valid_rows else None
    node_dir = common.out_path(job["output_dir"])
    common.set_metrics_file(os.path.join(node_dir, "metrics.jsonl"))
    args = training_arguments(job, os.path.join(node_dir, "checkpoints"), grad_accum, bool(evals))
    model = M.load_policy(job, attn)
    ref_mode, ref_model = M.attach_reference(model, job, attn)
    M.disable_dropout(model)
    if ref_model is not None:
        M.disable_dropout(ref_model)
    DpoTrainer, ProgressCallback = make_dpo_trainer_class()
    trainer = DpoTrainer(model=model, args=args, train_dataset=ListDataset(train), eval_dataset=ListDataset(evals) if evals else None,
                         data_collator=pair_collator(tokenizer.pad_token_id), callbacks=[ProgressCallback(job)])
    configure(trainer, job)
    trainer.setup_dpo(job["dpo"], ref_mode, ref_model)
    common.emit_event("reference", node=job["node"], mode=ref_mode)
    resume = last_checkpoint(args.output_dir)
    if resume:
        common.emit_event("resume", node=job["node"], checkpoint=resume)
    trainer.train(resume_from_checkpoint=resume)
    finish(trainer, tokenizer, job, grad_accum)
