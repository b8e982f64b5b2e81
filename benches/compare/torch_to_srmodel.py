"""Write PyTorch `LightSr` weights (light_sr_torch_train.py) into a `.srmodel` (not run in CI).

A `.srmodel` is `PSSRMDL1` + u32 length + config JSON + gzip(burn named MessagePack, f16). The
weights replace those of TEMPLATE, a `.srmodel` of the same architecture (e.g. a few steps of
`train-srgan --arch light-plain --features F`), so `sr-eval` / `upscale --model OUT` can run them.

    apt-get install python3-torch python3-msgpack
    python3 benches/compare/torch_to_srmodel.py TEMPLATE.srmodel WEIGHTS.pt OUT.srmodel
"""
import gzip
import struct
import sys

import msgpack
import numpy as np
import torch


def main():
    template, weights, out = sys.argv[1:4]
    data = open(template, "rb").read()
    n = struct.unpack("<I", data[8:12])[0]
    record = msgpack.unpackb(gzip.decompress(data[12 + n :]), raw=False, strict_map_key=False)
    state = torch.load(weights)
    light = record["item"]["Light"]

    def put(node, name):
        for k in ("weight", "bias"):
            t = state[f"{name}.{k}"].detach().numpy().astype(np.float16)
            param = node[k]["param"]
            if list(param["shape"]) != list(t.shape):
                sys.exit(f"{name}.{k}: template shape {param['shape']} differs from {list(t.shape)}")
            param["bytes"] = t.tobytes()

    for name in ("head", "fuse", "tail"):
        put(light[name], name)
    for i, block in enumerate(light["blocks"]):
        put(block["conv1"], f"blocks.{i}.c1")
        put(block["conv2"], f"blocks.{i}.c2")
    open(out, "wb").write(data[: 12 + n] + gzip.compress(msgpack.packb(record, use_bin_type=True)))


if __name__ == "__main__":
    main()
