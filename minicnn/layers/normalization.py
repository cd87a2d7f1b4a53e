"""BatchNormalization (Ioffe & Szegedy, 2015), over the channel axis.

Training, with m = N*H*W values per channel:

    mean  = sum(x) / m                 var = sum((x - mean)^2) / m   (biased)
    x_hat = (x - mean) / sqrt(var + eps)
    y     = gamma * x_hat + beta
    moving = moving * momentum + batch_stat * (1 - momentum)

Backward (the mean and variance depend on x too):

    dgamma = sum(dy * x_hat)           dbeta = sum(dy)
    dx_hat = dy * gamma
    dx     = (m * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)) / (m * sqrt(var + eps))

Inference uses the moving statistics instead, so then mean and var are
constants and dx = dy * gamma / sqrt(moving_var + eps).
"""
import numpy as np

from .. import parallel
from .base import Layer, check_keras_only, check_number


class BatchNormalization(Layer):
    """Keras's BatchNormalization over the last (channel) axis. ``renorm=True`` is
    not supported; ``renorm_clipping`` and ``renorm_momentum`` do nothing without it
    (in Keras too). ``synchronized=True`` makes Keras compute the statistics of the
    whole batch when it is split across devices; minicnn always does, so both
    values compute the same."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, renorm=False,
                 renorm_clipping=None, renorm_momentum=0.99, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        owner = self.owner
        if not isinstance(axis, (int, np.integer)):
            raise ValueError(f"{owner}: axis must be an int, received axis={axis!r}")
        # Keras checks neither of these two; minicnn refuses values that cannot work.
        check_number(owner, "momentum", momentum, "a float in [0, 1]", lambda m: 0 <= m <= 1)
        check_number(owner, "epsilon", epsilon, "a float > 0", lambda e: e > 0)
        self.axis, self.momentum, self.epsilon = int(axis), float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.renorm = check_keras_only(owner, "renorm", renorm, (False,))
        self.renorm_clipping, self.renorm_momentum = renorm_clipping, renorm_momentum
        self.synchronized = bool(synchronized)
        self.set_weight_options(beta_initializer=beta_initializer,
            gamma_initializer=gamma_initializer,
            moving_mean_initializer=moving_mean_initializer,
            moving_variance_initializer=moving_variance_initializer,
            beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
            beta_constraint=beta_constraint, gamma_constraint=gamma_constraint)

    def build(self, input_shape):
        rank = len(input_shape)
        axis = self.axis % rank
        if axis != rank - 1:
            raise ValueError(f"{self.owner} supports the channel (last) axis only, "
                             f"received axis={self.axis} for rank {rank}")
        c = (input_shape[-1],)
        if self.scale:
            self.add_weight("gamma", c, self.gamma_initializer, self.gamma_regularizer,
                            self.gamma_constraint)
        if self.center:
            self.add_weight("beta", c, self.beta_initializer, self.beta_regularizer,
                            self.beta_constraint)
        self.state["moving_mean"] = self.moving_mean_initializer(c, dtype=self.dtype.name).astype(self.dtype)
        self.state["moving_variance"] = self.moving_variance_initializer(c, dtype=self.dtype.name).astype(self.dtype)
        super().build(input_shape)

    def _gamma_beta(self):
        c = self.state["moving_mean"].shape
        gamma = self.params["gamma"] if self.scale else np.ones(c, self.dtype)
        beta = self.params["beta"] if self.center else np.zeros(c, self.dtype)
        return gamma, beta

    def forward(self, x, training=False):
        x = self.check_input(x, rank=len(self.input_shape))
        training = training and self.trainable   # a frozen layer runs in inference mode
        x2 = x.reshape(-1, x.shape[-1])                       # (m, C)
        shard = parallel.current() if training else None
        m = x2.shape[0] if shard is None else x2.shape[0] // x.shape[0] * shard.rows
        if training and shard is None:
            mean = x2.mean(axis=0)
            var = np.square(x2 - mean).mean(axis=0)           # biased, as Keras
        elif training:   # a split batch: the whole batch's statistics, from every shard's sums
            mean = shard.allreduce(x2.sum(axis=0)) / self.dtype.type(m)
            var = shard.allreduce(np.square(x2 - mean).sum(axis=0)) / self.dtype.type(m)
        if training and (shard is None or shard.index == 0):   # moving statistics: once
            keep = self.dtype.type(self.momentum)
            for key, batch in (("moving_mean", mean), ("moving_variance", var)):
                self.state[key][...] = self.state[key] * keep + batch * (1 - keep)
        if not training:
            mean, var = self.state["moving_mean"], self.state["moving_variance"]
        inv_std = 1 / np.sqrt(var + self.dtype.type(self.epsilon))   # (C,)
        x_hat = (x2 - mean) * inv_std                         # (m, C)
        gamma, beta = self._gamma_beta()
        self.cache = {"x_hat": x_hat, "inv_std": inv_std, "training": training,
                      "x_shape": x.shape, "m": m, "shard": shard}
        return (x_hat * gamma + beta).reshape(x.shape)

    def backward(self, dy, from_logits=False, compute_dx=True):
        c = self.cache
        dy2 = dy.reshape(-1, dy.shape[-1])                    # (m, C)
        x_hat, inv_std = c["x_hat"], c["inv_std"]
        gamma, _ = self._gamma_beta()
        if self.scale:
            self.grads["gamma"] = (dy2 * x_hat).sum(axis=0)
        if self.center:
            self.grads["beta"] = dy2.sum(axis=0)
        dx_hat = dy2 * gamma
        if not c["training"]:
            return (dx_hat * inv_std).reshape(c["x_shape"])
        m, shard = c["m"], c["shard"]
        sum_dx_hat, sum_dx_hat_x_hat = dx_hat.sum(axis=0), (dx_hat * x_hat).sum(axis=0)
        if shard is not None:                        # sums over the whole batch
            sum_dx_hat = shard.allreduce(sum_dx_hat)
            sum_dx_hat_x_hat = shard.allreduce(sum_dx_hat_x_hat)
        dx = (m * dx_hat - sum_dx_hat - x_hat * sum_dx_hat_x_hat)
        return (dx * (inv_std / m)).reshape(c["x_shape"])

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "synchronized": self.synchronized, "renorm": self.renorm,
                "renorm_clipping": self.renorm_clipping, "renorm_momentum": self.renorm_momentum}
