# build_resnet returns a subclassed keras.Model.
# %%
# include: imports
# %%
# include: ref_block
# %%
class MonResNet(keras.Model):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv = layers.Conv2D(32, 3, padding="same", activation="relu")
        self.pool = layers.GlobalAveragePooling2D()
        self.out = layers.Dense(num_classes, activation="softmax")

    def call(self, x):
        return self.out(self.pool(self.conv(x)))

def build_resnet(input_shape=(28, 28, 1), num_classes=10):
    model = MonResNet(num_classes)
    model.build((None, *input_shape))
    return model
# %%
# include: cnn_builder
