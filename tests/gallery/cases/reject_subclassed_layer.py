# A subclassed layer hides the block (message: use the functional API).
# %%
# include: imports
# %%
class Bloc(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__()
        self.c1 = layers.Conv2D(padding="same", **kwargs)
        self.b1 = layers.BatchNormalization()
        self.c2 = layers.Conv2D(padding="same", **kwargs)
        self.b2 = layers.BatchNormalization()

    def call(self, x):
        y = keras.ops.relu(self.b1(self.c1(x)))
        return keras.ops.relu(x + self.b2(self.c2(y)))

def ResidualBlock(input, **kwargs):
    return Bloc(**kwargs)(input)
# %%
# include: resnet_builder
# %%
# include: cnn_builder
