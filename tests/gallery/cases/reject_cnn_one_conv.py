# The CNN has a single convolution; its head returns logits too (softmax in a separate layer is fine).
# %%
# include: imports
# %%
# include: ref_block
# %%
# include: resnet_builder
# %%
def build_cnn(input_shape=(28, 28, 1), num_classes=10):
    inputs = layers.Input(shape=input_shape)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(num_classes)(x)
    return keras.Model(inputs, layers.Softmax()(x))
