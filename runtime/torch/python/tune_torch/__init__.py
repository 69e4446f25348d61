"""tune's PyTorch runtime library, shipped inside every `tune export --executor torch` directory.

common (protocol, paths, interruption), schedule (lr factors, step arithmetic), data (tokenization, packing)
are torch-free; losses, models and train import torch and transformers/PEFT when a job really trains.
"""
__version__ = "1"
