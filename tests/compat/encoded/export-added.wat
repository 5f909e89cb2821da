(component
  (type $prev (component
    (export "a:b/prev" (component
      (export "f" (func))
    ))
  ))
  (export "prev" (type $prev))

  (type $new (component
    (export "a:b/new" (component
      (export "f" (func))
      (export "g" (func (param "x" u32)))
    ))
  ))
  (export "new" (type $new))
)
