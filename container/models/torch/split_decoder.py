"""The SAM 3 tracker's click decoder split in two for the browser: `Prepare` runs once per
photo, `Click` once per prompt. Together they compute what transformers' prompt encoder +
mask decoder compute for one prompt without a previous mask (the browser never sends
one), in another order. `prepare_sam3.py` checks the pair against transformers' forward
before it writes them.

- Image-only work moves to `Prepare`: in the first two-way block the pixels' tokens are
  the embedding plus the no-mask embedding, so their key/value/query projections are
  fixed per photo; so are the high-resolution features, laid out for the upsampling.
- The image->token attention output is a mix of a few token vectors per pixel: with T
  prompt tokens and H heads, `o_proj(attention) = A @ U` (A: the S x H*T attention
  weights, U: H*T x C projected token values), S*H*T*C multiply-adds instead of S*D*C
  (S = 5184 pixels, C = 256, D = 128, H*T = 64 for one click).
- LayerNorm is affine per pixel once its mean and deviation are known, so a linear map of
  a normalised pixel splits into the photo's part (from `Prepare`) and a low-rank part
  from A: the second block's projections and the first transposed convolution.
- Per-head attention over pixels runs as one 2-D product with a block-diagonal matrix of
  the (few) token vectors, so no pixel tensor is ever transposed.
- The final token->image attention runs for the four tokens read out (IoU, multimask 1-3)
  with its keys and values folded into the queries.
- The upsampling runs pixel-major ("space to depth"); masks become 288x288 at the end.

Multiply-adds for one click: about 0.75 G, against 2.2 G in the plain graph.
"""

import torch
from torch import nn
import torch.nn.functional as F

GRID = 72  # image tokens per side
PIXELS = GRID * GRID
READ_OUT = [1, 3, 4, 5]  # token rows used after the transformer: IoU, mask tokens 1..3

PREPARE_INPUTS = ["image_embed", "high_res_feats_0", "high_res_feats_1"]
PREPARE_OUTPUTS = ["k1", "v1", "q1", "z", "k2", "v2", "q2", "k2_pe", "q2_pe", "pe_k3", "up1", "s1", "s0"]
CLICK_INPUTS = PREPARE_OUTPUTS + ["point_coords", "point_labels"]
CLICK_OUTPUTS = ["masks", "iou_predictions"]


def linear(x, layer):
    return F.linear(x, layer.weight, layer.bias)


class LayerNormStats(torch.autograd.Function):
    """LayerNorm over the last axis that also returns the rows' mean and 1/deviation: one
    ONNX LayerNormalization node with its optional Mean and InvStdDev outputs."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        mean = x.mean(-1, keepdim=True)
        centred = x - mean
        inv = torch.rsqrt((centred * centred).mean(-1, keepdim=True) + eps)
        return centred * inv * weight + bias, mean, inv

    @staticmethod
    def symbolic(g, x, weight, bias, eps):
        return g.op("LayerNormalization", x, weight, bias, axis_i=-1, epsilon_f=eps, outputs=3)


def layer_norm_stats(x, norm):
    return LayerNormStats.apply(x, norm.weight, norm.bias, norm.eps)


def block_diagonal(x, h):
    """[T, H*d] token vectors -> [H*T, H*d] with head h's rows holding only head h's part."""
    t, dim = x.shape
    eye = torch.eye(h, dtype=x.dtype)
    return (x.reshape(t, h, dim // h).transpose(0, 1).unsqueeze(2) * eye.reshape(h, 1, h, 1)).reshape(h * t, dim)


def diagonal_blocks(x, h, t):
    """[H*T, H*d] -> [T, H*d], keeping each head's own block."""
    dim = x.shape[1]
    eye = torch.eye(h, dtype=x.dtype)
    return (x.reshape(h, t, h, dim // h) * eye.reshape(h, 1, h, 1)).sum(0).reshape(t, dim)


def grouped_softmax(scores, h):
    """Softmax over each head's group of columns of [S, H*T]."""
    s, ht = scores.shape
    return torch.softmax(scores.reshape(s, h, ht // h), -1).reshape(s, ht)


def deconv_matrix(conv):
    """ConvTranspose2d(k=2, s=2) weight [in, out, 2, 2] -> [in, 4*out], columns (dy, dx, out)."""
    w = conv.weight.detach()
    return w.permute(0, 2, 3, 1).reshape(w.shape[0], 4 * w.shape[1]).clone()


class Prepare(nn.Module):
    """Per photo: (image_embed [1,256,72,72], high_res_feats_0 [1,32,288,288],
    high_res_feats_1 [1,64,144,144]) -> the tensors `Click` takes (PREPARE_OUTPUTS)."""

    def __init__(self, model):
        super().__init__()
        self.prompt = model.prompt_encoder
        self.dec = model.mask_decoder
        pe = model.get_image_wide_positional_embeddings().detach().clone()
        self.register_buffer("pe", pe.flatten(2).transpose(1, 2)[0])  # [S, C]
        self.register_buffer("w_up1", deconv_matrix(self.dec.upscale_conv1))

    def forward(self, image_embed, high_res_feats_0, high_res_feats_1):
        d = self.dec
        t = d.transformer
        b1, b2 = t.layers
        pe = self.pe
        x0 = image_embed.flatten(2).transpose(1, 2)[0] + self.prompt.no_mask_embed.weight  # [S, C]
        ta = b1.cross_attn_token_to_image
        h = ta.num_attention_heads
        k1 = linear(x0 + pe, ta.k_proj).reshape(PIXELS, h, -1).permute(1, 2, 0)  # [H, d, S]
        v1 = linear(x0, ta.v_proj).reshape(PIXELS, h, -1).transpose(0, 1)  # [H, S, d]
        q1 = linear(x0 + pe, b1.cross_attn_image_to_token.q_proj)  # [S, D]
        z = x0 + b1.cross_attn_image_to_token.o_proj.bias  # block 1's keys before LayerNorm, less A @ U
        g1, beta1 = b1.layer_norm4.weight, b1.layer_norm4.bias
        g2, beta2 = b2.layer_norm4.weight, b2.layer_norm4.bias
        ta2, ia2 = b2.cross_attn_token_to_image, b2.cross_attn_image_to_token
        k2 = z @ (ta2.k_proj.weight * g1).t()
        v2 = z @ (ta2.v_proj.weight * g1).t()
        q2 = z @ (ia2.q_proj.weight * g1).t()
        k2_pe = linear(beta1 + pe, ta2.k_proj)
        q2_pe = linear(beta1 + pe, ia2.q_proj)
        pe_k3 = pe @ t.final_attn_token_to_image.k_proj.weight.t()
        up1 = (z * (g1 * g2)) @ self.w_up1  # [S, 4*64]
        # high_res_feats_1 [64,144,144] -> [S*4 (y, x, dy, dx), 64], plus what the click adds to every pixel
        s1 = high_res_feats_1[0].reshape(64, GRID, 2, GRID, 2).permute(1, 3, 2, 4, 0).reshape(PIXELS, 256)
        s1 = (s1 + d.upscale_conv1.bias.repeat(4) + beta2 @ self.w_up1).reshape(PIXELS * 4, 64)
        # high_res_feats_0 [32,288,288] -> [S*4 (y, x, dy1, dx1), 4 (dy2, dx2) * 32], plus the bias
        s0 = high_res_feats_0[0].reshape(32, GRID, 2, 2, GRID, 2, 2).permute(1, 4, 2, 5, 3, 6, 0).reshape(PIXELS * 4, 128)
        s0 = s0 + d.upscale_conv2.bias.repeat(4)
        return k1, v1, q1, z, k2, v2, q2, k2_pe, q2_pe, pe_k3, up1, s1, s0


class Click(nn.Module):
    """Per prompt: PREPARE_OUTPUTS + point_coords [1,N,2] (1008 frame, pad point
    included), point_labels [1,N] -> masks [1,3,288,288] (logits clamped to +-32),
    iou_predictions [1,3]: the decoder contract's outputs for one prompt without a mask."""

    def __init__(self, model):
        super().__init__()
        self.prompt = model.prompt_encoder
        self.dec = model.mask_decoder
        self.register_buffer("w_up1", deconv_matrix(self.dec.upscale_conv1))
        self.register_buffer("w_up2", deconv_matrix(self.dec.upscale_conv2))

    def tokens(self, point_coords, point_labels):
        labels = point_labels.to(torch.int64)
        sparse = self.prompt._embed_points(point_coords.unsqueeze(1), labels.unsqueeze(1), pad=False)[0, 0]
        d = self.dec
        return torch.cat([d.obj_score_token.weight, d.iou_token.weight, d.mask_tokens.weight, sparse], 0)  # [T, C]

    @staticmethod
    def self_attention(attn, query, value):
        out, _ = attn(query=query[None, None], key=query[None, None], value=value[None, None])
        return out[0, 0]

    @staticmethod
    def image_to_token(attn, q_pixels, keys, values):
        """Pixels' queries [S, D] attend to tokens -> (A [S, H*T], U [H*T, C]) with
        o_proj(attention) = A @ U + o_proj.bias."""
        h = attn.num_attention_heads
        k = block_diagonal(linear(keys, attn.k_proj), h)  # [H*T, D]
        a = grouped_softmax((q_pixels @ k.t()) * attn.scaling, h)  # [S, H*T]
        v = linear(values, attn.v_proj)  # [T, D]
        t, dim = v.shape
        wo = attn.o_proj.weight.reshape(-1, h, dim // h).permute(1, 2, 0)  # [H, d, C]
        u = v.reshape(t, h, dim // h).transpose(0, 1) @ wo  # [H, T, C]
        return a, u.reshape(h * t, -1)

    @staticmethod
    def token_to_image(attn, queries, keys, values):
        """Tokens [T, C] attend to the pixels' keys/values [S, D] -> [T, C]."""
        h = attn.num_attention_heads
        t = queries.shape[0]
        q = block_diagonal(linear(queries, attn.q_proj), h)  # [H*T, D]
        w = torch.softmax((q @ keys.t()) * attn.scaling, -1)  # [H*T, S]
        return linear(diagonal_blocks(w @ values, h, t), attn.o_proj)

    def forward(self, k1, v1, q1, z, k2, v2, q2, k2_pe, q2_pe, pe_k3, up1, s1, s0, point_coords, point_labels):
        d = self.dec
        t = d.transformer
        b1, b2 = t.layers
        p = self.tokens(point_coords, point_labels)  # [T, C]
        n = p.shape[0]

        # Block 1: no positional embedding and no residual in its self-attention.
        q = b1.layer_norm1(self.self_attention(b1.self_attn, p, p))
        ta = b1.cross_attn_token_to_image
        h = ta.num_attention_heads
        qh = linear(q + p, ta.q_proj).reshape(n, h, -1).transpose(0, 1)  # [H, T, d]
        out = torch.softmax((qh @ k1) * ta.scaling, -1) @ v1  # [H, T, d]
        q = b1.layer_norm2(q + linear(out.transpose(0, 1).reshape(n, -1), ta.o_proj))
        q = b1.layer_norm3(q + b1.mlp(q))
        a1, u1 = self.image_to_token(b1.cross_attn_image_to_token, q1, q + p, q)
        keys1, mean1, inv1 = layer_norm_stats(z + a1 @ u1, b1.layer_norm4)  # [S, C], [S, 1], [S, 1]
        g1, beta1 = b1.layer_norm4.weight, b1.layer_norm4.bias
        a1m = torch.cat([a1, mean1], 1)  # [S, H*T + 1]

        def low_rank(photo, layer, pe_part):
            # layer(keys1 [+ pe]) = (photo + a1 @ (u1 g1 W^T) - mean1 (g1 W^T)) / std1 + pe_part
            w = (layer.weight * g1).t()  # [C, D]
            return (photo + a1m @ torch.cat([u1 @ w, -w.sum(0, keepdim=True)], 0)) * inv1 + pe_part

        # Block 2.
        q = b2.layer_norm1(q + self.self_attention(b2.self_attn, q + p, q))
        ta = b2.cross_attn_token_to_image
        kk = low_rank(k2, ta.k_proj, k2_pe)
        vv = low_rank(v2, ta.v_proj, linear(beta1, ta.v_proj))
        q = b2.layer_norm2(q + self.token_to_image(ta, q + p, kk, vv))
        q = b2.layer_norm3(q + b2.mlp(q))
        ia = b2.cross_attn_image_to_token
        a2, u2 = self.image_to_token(ia, low_rank(q2, ia.q_proj, q2_pe), q + p, q)
        keys2, mean2, inv2 = layer_norm_stats(keys1 + ia.o_proj.bias + a2 @ u2, b2.layer_norm4)
        g2 = b2.layer_norm4.weight

        # Final attention for the tokens read out; keys and values folded into the queries.
        fa = t.final_attn_token_to_image
        r = len(READ_OUT)
        qb = block_diagonal(linear(q[READ_OUT] + p[READ_OUT], fa.q_proj), h)  # [H*4, D]
        scores = (qb @ fa.k_proj.weight) @ keys2.t() + qb @ pe_k3.t() + (qb @ fa.k_proj.bias)[:, None]
        w = torch.softmax(scores * fa.scaling, -1)  # [H*4, S]
        out = diagonal_blocks(linear(w @ keys2, fa.v_proj), h, r)  # [4, D]
        q = t.layer_norm_final_attn(q[READ_OUT] + linear(out, fa.o_proj))

        # Upsampling, pixel-major. upscale_conv1(keys2) by the same low-rank split:
        # keys2 = (keys1 + b + a2 u2 - mean2) g2 / std2 + beta2, keys1 = (z + a1 u1 - mean1) g1 / std1 + beta1.
        w1 = self.w_up1  # [C, 4*64]
        g12 = g1 * g2
        lead = torch.cat([a1 * inv1, a2, mean1 * inv1, mean2, torch.ones_like(mean2)], 1)  # [S, 2HT+3]
        mix = torch.cat([u1 @ (w1 * g12[:, None]), u2 @ (w1 * g2[:, None]), -(g12 @ w1)[None], -(g2 @ w1)[None], (((beta1 + ia.o_proj.bias) * g2) @ w1)[None]], 0)
        x = (up1 * inv1 + lead @ mix) * inv2  # [S, 4*64]
        x = x.reshape(PIXELS * 4, 64) + s1
        x = d.activation(F.layer_norm(x, (64,), d.upscale_layer_norm.weight, d.upscale_layer_norm.bias, d.upscale_layer_norm.eps))
        x = d.activation(x @ self.w_up2 + s0)  # [S*4, 4*32]
        hyper = torch.stack([d.output_hypernetworks_mlps[i + 1](q[i + 1]) for i in range(3)], 0)  # [3, 32]
        masks = hyper @ x.reshape(PIXELS * 16, 32).t()  # [3, S*16]
        # (y, x, dy1, dx1, dy2, dx2) -> (y, dy1, dy2, x, dx1, dx2): [1, 3, 288, 288]
        masks = masks.reshape(3, GRID, GRID, 2, 2, 2, 2).permute(0, 1, 3, 5, 2, 4, 6).reshape(1, 3, 4 * GRID, 4 * GRID)
        iou = d.iou_prediction_head(q[0])[1:]
        return masks.clamp(-32.0, 32.0), iou[None]
