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

from .base import Layer


class BatchNormalization(Layer):
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        owner = f"BatchNormalization '{self.name}'"
        if axis not in (-1, 1, 3) and not isinstance(axis, int):
            raise ValueError(f"{owner}: axis must be an int, received {axis!r}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"{owner}: momentum must be in [0, 1], received {momentum!r}")
        if epsilon <= 0:
            raise ValueError(f"{owner}: epsilon must be > 0, received {epsilon!r}")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
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
            raise ValueError(f"BatchNormalization '{self.name}' supports the channel (last) "
                             f"axis only, received axis={self.axis} for rank {rank}")
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
        if training:
            mean = x2.mean(axis=0)
            var = np.square(x2 - mean).mean(axis=0)           # biased, as Keras
            keep = self.dtype.type(self.momentum)
            for key, batch in (("moving_mean", mean), ("moving_variance", var)):
                self.state[key][...] = self.state[key] * keep + batch * (1 - keep)
        else:
            mean, var = self.state["moving_mean"], self.state["moving_variance"]
        inv_std = 1 / np.sqrt(var + self.dtype.type(self.epsilon))   # (C,)
        x_hat = (x2 - mean) * inv_std                         # (m, C)
        gamma, beta = self._gamma_beta()
        self.cache = {"x_hat": x_hat, "inv_std": inv_std, "training": training,
                      "x_shape": x.shape}
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
        m = dy2.shape[0]
        dx = (m * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
        return (dx * (inv_std / m)).reshape(c["x_shape"])

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale}
