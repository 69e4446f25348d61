// Inline recipes for the formatter's whole-file tests: together they use every
// construct of the language and put comments in every position. `canonical` is
// written in the exact canonical layout and must come back unchanged.

const canonical = `# A recipe in canonical layout: formatting it must change nothing.
# Second header line.

import "std/templates" as templates # aliased
import "std/models"
import { alpagasus_rating, litgpt_0_100 } from "std/prompts"

recipe alpaca_lora {
  description = "LoRA on Alpaca \\"cleaned\\"\\n"
  seed = 42
  version = "1.0"
}

# The base model.
model base {
  hub = "meta-llama/Llama-2-7b-hf"
  revision = "main"
  arch = llama2_7b
  dtype = bf16
}

dataset alpaca {
  hub = "yahma/alpaca-cleaned"
  split = "train"
  limit = 2k
  holdout = 5%
  max_len = 512 tokens

  fields {
    instruction: string
    input: string? = "" from "context"
    output: string
    tags: list<string>? = []
    score: float = -1.5
    nested: map<list<int>>
  }

  # Data pipeline, in order.
  filter(len(output) > 0 and not (score < 0 or score > 5))
  filter(score >= 4.5, reason = "quality")
  dedupe()
  map(text = instruction + "\\n" + input)
  sample(n = 1.5M, seed = 7)
}

template local {
  prompt = """
Below is an instruction.
   Indented line with trailing blanks   
{{instruction}}
"""
  completion = "{{output}}"
  eos = true
}

stage sft {
  data = [alpaca, other.dataset]
  template = templates.alpaca
  epochs = 3 epochs
  max_steps = 10_000 steps
  lr = 2e-4
  warmup = 3%
  batch = 64 rows
  grad_clip = -(1 + 2) * 3 / (4 - 5)
  schedule = cosine(warmup = 100 steps, min_lr = 0.1 * lr)
  window = 0..4096
  ratios = [0.5, 0.25, 0.25]
  resume = none
  packing = false

  adapter lora {
    rank = 16
    alpha = 32
    dropout = 0.05
    targets = [q_proj, k_proj, v_proj, o_proj]
  }

  hardware {
    memory = 80 GB
    spill = 512 MiB
  }
}

eval {
  task(mmlu, shots = 5)
  task(gsm8k, shots = 8, limit = 1_000 rows) # trailing comment on a step
  judge(
    alpagasus_rating,
    model = "gpt-4o-mini",
    criteria = ["helpfulness", "accuracy", "harmlessness", "honesty", "depth"],
    threshold = 4.5,
  )
}

export {
  format = "safetensors"
  merge = true
  # Nothing else to export yet.
}

# End of recipe.
`;

const messy = `import{alpagasus_rating}from "std/prompts"
model base{hub="x" dtype=bf16 # the dtype
}
   # about data


dataset d {
fields{a:int b : string? = "" from "col" c:list< string >}
filter( ((a)) >= (1+2)*3 ) filter(not not ok) filter(- - 5 < a)
map( x = [ 1 , 2 , [ 3 , 4 , ] , ] , y = f( ) , z = g(a , b = c , ) )
   }
stage s{ data=[d] epochs=3   epochs lr=1e-4 mem=24\tGiB
 adapter lora{} export{}
 gate = (a and b) or (c and (d or e)) and not (x == y) }
import "std/models"   as   models
`;

const comments = `# header

# second paragraph of the header
import "a" # why a
# why b
import "b"

model m { # on the opener
  # leading a

  a = 1 # trailing a


  # leading b, after two blank lines
  b = [ # list opener
    1, # one
    # before two
    2,

    # group two
    3 # three
    # dangling in list
  ]
  c = f( # call opener
    x, # x
    y = 2 # y
  )
  d = a + # inside an expression
    b
  inner { # inner opener
  } # after inner
  empty {
    # only a comment
  }
  # dangling before the closer
} # after m
model # in the header
  n {}
# between blocks

dataset z {
  fields {
    a: # inside a field
      int
  }
  filter(x, # after x
    y)
}

# end of file
# really the end
`;

const longLines = `stage long {
  targets = [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, lm_head, embed_tokens, norm]
  nested = [[q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj], [down_proj, lm_head, embed_tokens, norm, x]]
  call = schedule(kind = cosine, warmup = 100 steps, min_lr = 0.1, cycles = 3, restart = true, decay = 0.9)
  mixed = [alpha, beta] + [gamma, delta, epsilon, zeta, eta, theta, iota, kappa, lambda, mu, nu, xi, omicron]
  triple = [""" 
multi
line """, "after the triple string, with enough text to push this line past one hundred columns"]
  filter(aaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbb, cccccccccccccccccccccccccc, ddddddddddddddd, e)
}
`;

export const RICH_RECIPES: Record<string, string> = { canonical, messy, comments, longLines };
