"""Geometric vector perceptrons (Jing et al. 2021): layers on (scalars s (N, S), vectors V (N, C, 3)).

Blocks, each a forward/backward pair (book: Representing vectors and GVP, `eq-gvp`):

- ``gvp``:        Vh = V W_h;  s' = [s, |Vh|] W_s + b_s  (scalars FIRST, as gvp-pytorch; the paper writes
                  [|Vh|, s]);  V' = Vh W_v;  then V' *= sigmoid(act(s') W_sv + b_sv) (``vector_gate``, gate
                  from the PRE-activation s', as the reference) or V' *= sigmoid(|V'|) (ungated);  s' = act(s')
- ``layer_norm``: LayerNorm on scalars (learned gamma, beta) and V / sqrt(mean_c |V_c|^2) on vectors
- ``gvp_conv``:   (`eq-gvpconv`) m_ij = GVP stack on ([s_j, e_ij, s_i], [V_j, E_ij, V_i]), aggregated at i (mean, or a
                  weighted sum)
- ``gvp_conv_layer``: x = LN(x + conv(x)), x = LN(x + ff(x)) (post-norm; ff = 2 GVPs, hidden (4S, 2C))

Norms |v| use GVP's clamp sqrt(max(|v|^2, 1e-8)) (``clamp=True``: exactly 0 gradient below norm 1e-4) or
the smooth sqrt(|v|^2 + 1e-8) (``clamp=False``, what a potential trained on forces needs). Vectors rotate
as V @ R.T; every block is O(3)-equivariant (reflections included): it only forms norms, linear channel
combinations and scalings of vectors.

Parameters are flat dicts; names map one-to-one onto gvp-pytorch ``gvp/__init__.py`` (ours W = torch weight.T):

| ours                         | gvp-pytorch                             |
| ---------------------------- | --------------------------------------- |
| wh.W (C_in, h), no bias      | wh.weight (h, C_in), h = max(C_in, C_out) |
| ws.W (S_in + h, S_out), ws.b | ws.weight, ws.bias                      |
| wv.W (h, C_out), no bias     | wv.weight                               |
| wsv.W (S_out, C_out), wsv.b  | wsv.weight, wsv.bias (vector_gate=True) |
| scalar_norm.gamma / .beta    | LayerNorm's scalar_norm.weight / .bias  |
| message_func.k.*             | GVPConv.message_func.k.*                |
| conv.*, norm.0/1.*, ff_func.0/1.* | GVPConvLayer.conv, .norm[0/1], .ff_func[0/1] |

No dropout (inference and deterministic training only).
"""
import numpy as np

from refimpl.core import init
from refimpl.core.layers import activation, linear_backward, linear_forward
from refimpl.core.scatter import (gather_backward, gather_forward, scatter_mean_backward, scatter_mean_forward,
                                  scatter_sum_backward, scatter_sum_forward)
from refimpl.core.validate import as_edge_index, as_float_array, check_like, check_positive_int
from refimpl.models.base import prefixed, subdict
from refimpl.nn.vectors import (scale_vectors_backward, scale_vectors_forward, vector_linear_backward,
                                vector_linear_forward, vector_norm_backward, vector_norm_forward)

EPS = 1e-8          # inside the clamp or the square root of every vector norm
LN_EPS = 1e-5       # torch.nn.LayerNorm's default


def _act(name):
    return (None, None) if name is None else activation(name)


def _check_dims(name, dims, min_vectors=1):
    """(scalar channels >= 1, vector channels >= min_vectors) as a tuple of ints."""
    ok = isinstance(dims, (tuple, list)) and len(dims) == 2 and all(
        isinstance(d, (int, np.integer)) and not isinstance(d, (bool, np.bool_)) for d in dims)
    if not ok or dims[0] < 1 or dims[1] < min_vectors:
        raise ValueError(f"{name}: expected (scalar channels >= 1, vector channels >= {min_vectors}), got {dims!r}")
    return int(dims[0]), int(dims[1])


def init_gvp(rng, dims_in, dims_out, vector_gate=False):
    """Parameters of one GVP from (S_in, C_in) to (S_out, C_out) (Glorot weights, zero biases); C_in >= 1."""
    (si, vi), (so, vo) = _check_dims("dims_in", dims_in), _check_dims("dims_out", dims_out, 0)
    h = max(vi, vo)
    p = {"wh.W": init.glorot_uniform(rng, vi, h), "ws.W": init.glorot_uniform(rng, si + h, so), "ws.b": np.zeros(so)}
    if vo:
        p["wv.W"] = init.glorot_uniform(rng, h, vo)
        if vector_gate:
            p["wsv.W"], p["wsv.b"] = init.glorot_uniform(rng, so, vo), np.zeros(vo)
    return p


def _check_sv(s, V, min_vectors=0, names=("s", "V")):
    s, V = as_float_array(names[0], s, ndim=2), as_float_array(names[1], V, ndim=3)
    if V.shape[0] != s.shape[0] or V.shape[2] != 3 or V.shape[1] < min_vectors:
        raise ValueError(f"{names[1]}: expected shape ({s.shape[0]}, C >= {min_vectors}, 3), got {V.shape}")
    return s, V


# ----------------------------------------------------------------------------- GVP
def gvp_forward(s, V, p, scalar_act="relu", vector_act="sigmoid", vector_gate=False, clamp=True):
    """One geometric vector perceptron (book: `eq-gvp`, equations in the module docstring).

    s: (N, S_in); V: (N, C_in, 3) with C_in >= 1; p: dict with wh.W (C_in, h), ws.W (S_in + h, S_out), ws.b,
    and for C_out > 0 wv.W (h, C_out) (+ wsv.W (S_out, C_out), wsv.b with vector_gate);
    scalar_act: "relu", "silu", ... or None; vector_act: "sigmoid" or None (the gate's sigmoid stays).
    Returns ((s' (N, S_out), V' (N, C_out, 3)), cache); C_out = 0 without wv.W.
    """
    s, V = _check_sv(s, V, min_vectors=1)
    missing = [k for k in ("wh.W", "ws.W", "ws.b") + (("wsv.W", "wsv.b") if vector_gate and "wv.W" in p else ())
               if k not in p]
    if missing or p["wh.W"].shape[0] != V.shape[1] or p["ws.W"].shape[0] != s.shape[1] + p["wh.W"].shape[1]:
        raise ValueError(f"p: expected GVP parameters (init_gvp) for {s.shape[1]} scalars and {V.shape[1]} "
                         f"vector channels, got {({k: np.shape(v) for k, v in p.items()})}")
    vh, c_h = vector_linear_forward(V, p["wh.W"])
    vn, c_n = vector_norm_forward(vh, eps=EPS, clamp=clamp)
    s_pre, c_s = linear_forward(np.concatenate([s, vn], axis=1), p["ws.W"], p["ws.b"])
    c_v = c_g = None
    if "wv.W" in p:
        v, c_v = vector_linear_forward(vh, p["wv.W"])
        if vector_gate:
            a, c_a = (s_pre, None) if vector_act is None else _act(vector_act)[0](s_pre)
            g_lin, c_l = linear_forward(a, p["wsv.W"], p["wsv.b"])
            c_g = ("gate", c_a, c_l)
        elif vector_act is not None:
            g_lin, c_l = vector_norm_forward(v, eps=EPS, clamp=clamp)
            c_g = ("norm", None, c_l)
        if c_g is not None:
            g, c_sig = _act(vector_act or "sigmoid")[0](g_lin)
            v, c_sc = scale_vectors_forward(g, v)
            c_g += (c_sig, c_sc)
    else:
        v = np.zeros((s.shape[0], 0, 3))
    out_s, c_o = (s_pre, None) if scalar_act is None else _act(scalar_act)[0](s_pre)
    return (out_s, v), (c_h, c_n, c_s, c_v, c_g, c_o, s.shape[1], scalar_act, vector_act, v.shape)


def gvp_backward(dout, cache, *, check_finite=True):
    """dout: (ds' (N, S_out), dV' (N, C_out, 3)). Returns (ds, dV, grads) with grads shaped like p."""
    c_h, c_n, c_s, c_v, c_g, c_o, n_s, scalar_act, vector_act, v_shape = cache
    ds_out, dv = dout
    ds_out = check_like("ds", ds_out, c_s[0].shape[:1] + c_s[1].shape[1:], check_finite)
    dv = check_like("dV", dv, v_shape, check_finite)
    grads = {}
    ds_pre = ds_out if scalar_act is None else _act(scalar_act)[1](ds_out, c_o)
    dvh = 0.0
    if c_v is not None:
        if c_g is not None:
            kind, c_a, c_l, c_sig, c_sc = c_g
            dg, dv = scale_vectors_backward(dv, c_sc)
            dg_lin = _act(vector_act or "sigmoid")[1](dg, c_sig)
            if kind == "gate":
                da, grads["wsv.W"], grads["wsv.b"] = linear_backward(dg_lin, c_l)
                ds_pre = ds_pre + (da if vector_act is None else _act(vector_act)[1](da, c_a))
            else:
                dv = dv + vector_norm_backward(dg_lin, c_l)
        dvh, grads["wv.W"] = vector_linear_backward(dv, c_v)
    dz, grads["ws.W"], grads["ws.b"] = linear_backward(ds_pre, c_s)
    dvh = dvh + vector_norm_backward(dz[:, n_s:], c_n)
    dV, grads["wh.W"] = vector_linear_backward(dvh, c_h)
    return dz[:, :n_s], dV, grads


# ----------------------------------------------------------------------------- layer norm
def layer_norm_forward(s, V, p, clamp=True):
    """GVP's LayerNorm: s -> gamma (s - mean) / sqrt(var + 1e-5) + beta;  V -> V / sqrt(mean_c |V_c|^2).

    |V_c|^2 is clamped at 1e-8 (clamp=True, gvp-pytorch) or has 1e-8 added (clamp=False, smooth).
    s: (N, S); V: (N, C, 3); p: scalar_norm.gamma (S,), scalar_norm.beta (S,). Returns ((s', V'), cache).
    """
    s, V = _check_sv(s, V)
    mu = s.mean(axis=1, keepdims=True)
    inv = 1.0 / np.sqrt(((s - mu) ** 2).mean(axis=1, keepdims=True) + LN_EPS)
    xh = (s - mu) * inv
    out_s = xh * p["scalar_norm.gamma"] + p["scalar_norm.beta"]
    sq = np.sum(V * V, axis=2)
    mask = sq > EPS if clamp else np.ones(sq.shape, dtype=bool)
    r = np.sqrt(np.mean(np.maximum(sq, EPS) if clamp else sq + EPS, axis=1)) if V.shape[1] else np.ones(len(V))
    return (out_s, V / r[:, None, None]), (xh, inv, p["scalar_norm.gamma"], V, r, mask)


def layer_norm_backward(dout, cache, *, check_finite=True):
    """dout: (ds' (N, S), dV' (N, C, 3)). Returns (ds, dV, grads)."""
    xh, inv, gamma, V, r, mask = cache
    ds_out = check_like("ds", dout[0], xh.shape, check_finite)
    dv_out = check_like("dV", dout[1], V.shape, check_finite)
    dxh = ds_out * gamma
    ds = inv * (dxh - dxh.mean(axis=1, keepdims=True) - xh * (dxh * xh).mean(axis=1, keepdims=True))
    grads = {"scalar_norm.gamma": np.sum(ds_out * xh, axis=0), "scalar_norm.beta": ds_out.sum(axis=0)}
    dr = -np.einsum("nci,nci->n", dv_out, V) / r**2
    dV = dv_out / r[:, None, None] + (dr / (r * max(V.shape[1], 1)))[:, None, None] * mask[:, :, None] * V
    return ds, dV, grads


def init_layer_norm(n_scalars):
    """gamma = 1, beta = 0 for ``n_scalars`` scalar channels (the vector part has no parameters)."""
    check_positive_int("n_scalars", n_scalars)
    return {"scalar_norm.gamma": np.ones(n_scalars), "scalar_norm.beta": np.zeros(n_scalars)}


# ----------------------------------------------------------------------------- parameter dicts
def _n_gvps(params, prefix):
    """How many GVPs ``prefix.0``, ``prefix.1``, ... the dict holds."""
    return len({k[len(prefix) + 1:].split(".")[0] for k in params if k.startswith(prefix + ".")})


# ----------------------------------------------------------------------------- GVPConv
def gvp_stack_forward(s, V, p, prefix, acts, vector_gate, clamp):
    """GVPs prefix.0, prefix.1, ... in turn; the last one has no activations (as gvp-pytorch)."""
    caches, k_last = [], _n_gvps(p, prefix) - 1
    if k_last < 0:
        raise ValueError(f"prefix: no GVP parameters {prefix}.0.* in p")
    for k in range(k_last + 1):
        sa, va = (None, None) if k == k_last else acts
        (s, V), c = gvp_forward(s, V, subdict(p, f"{prefix}.{k}."), sa, va, vector_gate, clamp)
        caches.append(c)
    return (s, V), (caches, prefix)


def gvp_stack_backward(dout, cache, *, check_finite=True):
    """Returns (ds, dV, grads) with grads named prefix.k.*."""
    caches, prefix = cache
    (ds, dV), grads = dout, {}
    for k in reversed(range(len(caches))):
        ds, dV, g = gvp_backward((ds, dV), caches[k], check_finite=check_finite and k == len(caches) - 1)
        grads.update(prefixed(f"{prefix}.{k}.", g))
    return ds, dV, grads


def gvp_conv_forward(s, V, edge_index, es, eV, p, acts=("relu", "sigmoid"), vector_gate=True, clamp=True,
                     aggr="mean", edge_weight=None):
    """GVPConv (book: `eq-gvpconv`): messages m_ij = GVPs(message_func.*) on ([s_j, e_ij, s_i], [V_j, E_ij, V_i])
    aggregated at i.

    s: (N, S); V: (N, C, 3); edge_index: (2, E) (row 0 source j, row 1 target i); es: (E, S_e); eV: (E, C_e, 3);
    aggr: "mean" (gvp-pytorch) or "sum"; edge_weight: (E,) or None, multiplies each message (a cutoff).
    Returns ((ds (N, S_out), dV (N, C_out, 3)), cache).
    """
    if aggr not in ("mean", "sum"):
        raise ValueError(f"aggr: expected 'mean' or 'sum', got {aggr!r}")
    s, V = _check_sv(s, V)
    j, i = edge_index = as_edge_index(edge_index, len(s))
    es, eV = _check_sv(es, eV, names=("es", "eV"))
    if len(es) != edge_index.shape[1]:
        raise ValueError(f"es: expected {edge_index.shape[1]} rows (one per edge), got {len(es)}")
    if edge_weight is not None:
        edge_weight = as_float_array("edge_weight", edge_weight, shape=(len(es),))
    (s_j, c_sj), (s_i, c_si) = gather_forward(s, j), gather_forward(s, i)
    (V_j, c_vj), (V_i, c_vi) = gather_forward(V, j), gather_forward(V, i)
    ms = np.concatenate([s_j, es, s_i], axis=1)
    mV = np.concatenate([V_j, eV, V_i], axis=1)
    (ms, mV), c_m = gvp_stack_forward(ms, mV, p, "message_func", acts, vector_gate, clamp)
    m0 = (ms, mV)                            # unweighted messages, for the weight's gradient
    if edge_weight is not None:
        ms, mV = ms * edge_weight[:, None], mV * edge_weight[:, None, None]
    agg_f = scatter_mean_forward if aggr == "mean" else scatter_sum_forward
    (out_s, c_as), (out_v, c_av) = agg_f(ms, i, len(s)), agg_f(mV, i, len(s))
    return (out_s, out_v), (c_sj, c_si, c_vj, c_vi, c_m, c_as, c_av, aggr, edge_weight, m0,
                            (s.shape[1], es.shape[1], V.shape[1], eV.shape[1]))


def gvp_conv_backward(dout, cache, *, check_finite=True):
    """dout: (ds (N, S_out), dV (N, C_out, 3)). Returns (ds, dV, des, deV, dedge_weight or None, grads)."""
    c_sj, c_si, c_vj, c_vi, c_m, c_as, c_av, aggr, w, (ms, mV), (S, Se, C, Ce) = cache
    agg_b = scatter_mean_backward if aggr == "mean" else scatter_sum_backward
    dms, dmV = agg_b(check_like("ds", dout[0], c_as[-1], check_finite), c_as), agg_b(
        check_like("dV", dout[1], c_av[-1], check_finite), c_av)
    dw = None
    if w is not None:
        dw = np.sum(dms * ms, axis=1) + np.einsum("eci,eci->e", dmV, mV)
        dms, dmV = dms * w[:, None], dmV * w[:, None, None]
    dms, dmV, grads = gvp_stack_backward((dms, dmV), c_m, check_finite=False)
    fast = {"check_finite": False}
    ds = gather_backward(dms[:, :S], c_sj, **fast) + gather_backward(dms[:, S + Se:], c_si, **fast)
    dV = gather_backward(dmV[:, :C], c_vj, **fast) + gather_backward(dmV[:, C + Ce:], c_vi, **fast)
    return ds, dV, dms[:, S:S + Se], dmV[:, C:C + Ce], dw, grads


# ----------------------------------------------------------------------------- GVPConvLayer (post-norm)
def gvp_conv_layer_forward(s, V, edge_index, es, eV, p, acts=("relu", "sigmoid"), vector_gate=True, clamp=True,
                           aggr="mean", edge_weight=None):
    """x = LN_0(x + conv(x)); x = LN_1(x + ff(x)) on x = (s, V); p holds conv.*, norm.0/1.*, ff_func.0/1.*.

    Shapes as in ``gvp_conv_forward`` with S_out = S, C_out = C. Returns ((s', V'), cache).
    """
    (ds, dV), c_conv = gvp_conv_forward(s, V, edge_index, es, eV, subdict(p, "conv."), acts, vector_gate, clamp,
                                        aggr, edge_weight)
    if ds.shape != s.shape or dV.shape != V.shape:
        raise ValueError(f"p: the messages have shapes {ds.shape}, {dV.shape}; the residual needs {s.shape}, {V.shape}")
    (s, V), c_n0 = layer_norm_forward(s + ds, V + dV, subdict(p, "norm.0."), clamp)
    (fs, fV), c_ff = gvp_stack_forward(s, V, p, "ff_func", acts, vector_gate, clamp)
    (s, V), c_n1 = layer_norm_forward(s + fs, V + fV, subdict(p, "norm.1."), clamp)
    return (s, V), (c_conv, c_n0, c_ff, c_n1)


def gvp_conv_layer_backward(dout, cache, *, check_finite=True):
    """dout: (ds' (N, S), dV' (N, C, 3)). Returns (ds, dV, des, deV, dedge_weight or None, grads)."""
    c_conv, c_n0, c_ff, c_n1 = cache
    ds, dV, g = layer_norm_backward(dout, c_n1, check_finite=check_finite)
    grads = prefixed("norm.1.", g)
    dfs, dfV, g = gvp_stack_backward((ds, dV), c_ff, check_finite=False)
    grads.update(g)
    ds, dV, g = layer_norm_backward((ds + dfs, dV + dfV), c_n0, check_finite=False)
    grads.update(prefixed("norm.0.", g))
    ds_c, dV_c, des, deV, dw, g = gvp_conv_backward((ds, dV), c_conv, check_finite=False)
    grads.update(prefixed("conv.", g))
    return ds + ds_c, dV + dV_c, des, deV, dw, grads


def init_gvp_conv_layer(rng, node_dims, edge_dims, n_message=3, vector_gate=True):
    """Parameters of one GVPConvLayer (3 message GVPs, ff hidden (4 S, 2 C), two layer norms)."""
    (S, C), (Se, Ce) = _check_dims("node_dims", node_dims), _check_dims("edge_dims", edge_dims, 0)
    check_positive_int("n_message", n_message)
    dims = [(2 * S + Se, 2 * C + Ce)] + [(S, C)] * n_message
    p = {}
    for k in range(n_message):
        p.update(prefixed(f"conv.message_func.{k}.", init_gvp(rng, dims[k], dims[k + 1], vector_gate)))
    hid = (4 * S, 2 * C)
    p.update(prefixed("ff_func.0.", init_gvp(rng, (S, C), hid, vector_gate)))
    p.update(prefixed("ff_func.1.", init_gvp(rng, hid, (S, C), vector_gate)))
    for k in (0, 1):
        p.update(prefixed(f"norm.{k}.", init_layer_norm(S)))
    return p
